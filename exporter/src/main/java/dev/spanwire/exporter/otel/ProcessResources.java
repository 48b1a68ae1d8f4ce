package dev.spanwire.exporter.otel;

import dev.spanwire.exporter.exchange.ProcessInfo;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.sdk.resources.Resource;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * One {@link Resource} instance per traced process, reused for all its spans and metrics (OTLP
 * marshaling groups by resource identity): service.name, service.instance.id (host:pid),
 * process.*, host.name and container.id. Entries go when the pipeline forgets the process
 * (weak keys: the pipeline keeps each process's {@link ProcessInfo} while it lives). Thread-safe.
 */
final class ProcessResources {
  static final AttributeKey<String> SERVICE_NAME = AttributeKey.stringKey("service.name");
  static final AttributeKey<String> SERVICE_INSTANCE_ID = AttributeKey.stringKey("service.instance.id");
  static final AttributeKey<Long> PROCESS_PID = AttributeKey.longKey("process.pid");
  static final AttributeKey<String> PROCESS_EXECUTABLE_NAME = AttributeKey.stringKey("process.executable.name");
  static final AttributeKey<String> PROCESS_COMMAND_LINE = AttributeKey.stringKey("process.command_line");
  static final AttributeKey<String> HOST_NAME = AttributeKey.stringKey("host.name");
  static final AttributeKey<String> CONTAINER_ID = AttributeKey.stringKey("container.id");

  private final Resource base;
  private final String hostName;
  private final Map<ProcessInfo, Resource> resources = new WeakHashMap<>();

  /** @param hostName the machine's name, on every resource */
  ProcessResources(String hostName) {
    this.hostName = hostName;
    // telemetry.sdk.* of the SDK that exports; service.name is always replaced
    this.base = Resource.getDefault();
  }

  synchronized Resource of(ProcessInfo process) {
    return resources.computeIfAbsent(process, this::create);
  }

  synchronized int size() {
    return resources.size();
  }

  /** Where service.name came from, so a gateway names only what the process did not name itself. */
  static final AttributeKey<String> SERVICE_NAME_SOURCE = AttributeKey.stringKey("spanwire.service.name.source");

  private Resource create(ProcessInfo process) {
    AttributesBuilder attributes = Attributes.builder();
    // the process's own declarations first; what the agent observed of it (pid, executable,
    // command line, host, container) overrides them below
    process.resourceAttributes().forEach(attributes::put);
    attributes
        .put(SERVICE_NAME, process.service())
        .put(SERVICE_NAME_SOURCE, process.serviceSource())
        .put(PROCESS_PID, (long) process.pid())
        .put(PROCESS_EXECUTABLE_NAME, process.executable())
        .put(PROCESS_COMMAND_LINE, process.commandLine())
        .put(HOST_NAME, hostName);
    if (process.containerId() != null) {
      attributes.put(CONTAINER_ID, process.containerId());
    }
    if (!process.resourceAttributes().containsKey(SERVICE_INSTANCE_ID.getKey())) {
      // processes of one service stay apart in backends that key series by service (job/instance)
      attributes.put(SERVICE_INSTANCE_ID, hostName + ":" + process.pid());
    }
    return base.merge(Resource.create(attributes.build()));
  }
}
