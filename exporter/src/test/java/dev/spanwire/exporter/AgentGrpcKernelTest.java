package dev.spanwire.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.testing.Await;
import dev.spanwire.bpf.testing.KernelTest;
import dev.spanwire.bpf.testing.Peers;
import dev.spanwire.bpf.testing.Peers.Completed;
import dev.spanwire.bpf.testing.Peers.Server;
import dev.spanwire.exporter.testing.OtlpReceiver;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * gRPC between grpc-java's Netty server and client (h2c), traced from the kernel: rpc spans and
 * metrics at a real OTLP receiver, with the statuses grpc-java itself reported.
 */
@KernelTest
class AgentGrpcKernelTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  @TempDir static Path classes;
  private static String classpath;

  /** GrpcPeer compiled once against the test classpath (grpc-java is a test dependency). */
  @BeforeAll
  static void compilePeer() throws URISyntaxException {
    String testClasspath = System.getProperty("java.class.path");
    Path source = Path.of(AgentGrpcKernelTest.class.getResource("/peers/GrpcPeer.java").toURI());
    int rc = ToolProvider.getSystemJavaCompiler().run(null, null, null,
        "-cp", testClasspath, "-d", classes.toString(), source.toString());
    assertThat(rc).as("GrpcPeer.java compiles").isZero();
    classpath = classes + java.io.File.pathSeparator + testClasspath;
  }

  private static List<String> java(String... args) {
    List<String> command = new java.util.ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-Xmx128m", "-cp", classpath, "GrpcPeer"));
    command.addAll(List.of(args));
    return command;
  }

  private static Map<String, String> attributes(Span span) {
    return OtlpReceiver.attributes(span.getAttributesList()).entrySet().stream()
        .collect(Collectors.toMap(Map.Entry::getKey, e -> String.valueOf(e.getValue()), (a, b) -> a, LinkedHashMap::new));
  }

  private static Span span(List<Span> spans, String name) {
    return spans.stream().filter(s -> s.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError(name + " not in " + spans.stream().map(Span::getName).toList()));
  }

  /** The calls counted in the latest export of a duration histogram, or -1 before there is one. */
  private static long calls(OtlpReceiver receiver, String service, String metric) {
    return receiver.latestMetricsOf(service).stream().filter(m -> m.getName().equals(metric))
        .flatMap(m -> m.getHistogram().getDataPointsList().stream()).mapToLong(p -> p.getCount())
        .reduce(Long::sum).orElse(-1);
  }

  @Test
  void unaryStreamingFailedAndDeadlineExceededCallsOnBothSides(@TempDir Path work) throws Exception {
    try (OtlpReceiver receiver = OtlpReceiver.start();
        Server server = Peers.server(java("server"), Map.of("OTEL_SERVICE_NAME", "grpc-server"));
        AgentRun agent = AgentRun.start(work.resolve("agent.log"), Map.of(
            "OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint(),
            "OTEL_BSP_SCHEDULE_DELAY", "200",
            "OTEL_METRIC_EXPORT_INTERVAL", "1000"), "--output", "none", "--ports", Integer.toString(server.port()))) {
      Completed client = Peers.run(TIMEOUT, Map.of("OTEL_SERVICE_NAME", "grpc-client"),
          java("client", Integer.toString(server.port())).toArray(String[]::new)).assertSuccess();
      // what grpc-java itself said of each call
      assertThat(client.out().lines().toList())
          .containsExactly("hello world", "counted 3", "fail NOT_FOUND", "slow DEADLINE_EXCEEDED");

      List<String> names = List.of("demo.Greeter/Say", "demo.Greeter/Count", "demo.Greeter/Fail", "demo.Greeter/Slow");
      for (String service : List.of("grpc-client", "grpc-server")) {
        Await.until("four rpc spans of " + service, TIMEOUT,
            () -> receiver.spansOf(service).stream().map(Span::getName).toList().containsAll(names),
            () -> service + ": " + receiver.spansOf(service).stream().map(Span::getName).toList() + "\n" + agent.logText());
      }
      Map<String, String> codes = Map.of("demo.Greeter/Say", "0", "demo.Greeter/Count", "0", "demo.Greeter/Fail", "5",
          "demo.Greeter/Slow", "4");
      for (String service : List.of("grpc-client", "grpc-server")) {
        List<Span> spans = receiver.spansOf(service);
        for (String name : names) {
          Map<String, String> a = attributes(span(spans, name));
          assertThat(a).as("%s %s", service, name)
              .containsEntry("rpc_system", "grpc")
              .containsEntry("rpc_service", "demo.Greeter")
              .containsEntry("rpc_method", name.substring(name.indexOf('/') + 1))
              .containsEntry("rpc_grpc_status_code", codes.get(name))
              .containsEntry("http_flavor", "2.0");
        }
        Span.SpanKind kind = service.equals("grpc-client") ? Span.SpanKind.SPAN_KIND_CLIENT : Span.SpanKind.SPAN_KIND_SERVER;
        assertThat(spans).filteredOn(s -> names.contains(s.getName())).allMatch(s -> s.getKind() == kind);
      }
      List<Span> clientSpans = receiver.spansOf("grpc-client");
      List<Span> serverSpans = receiver.spansOf("grpc-server");
      // a client errs on any status but OK; a server only on those that say it failed
      assertThat(span(clientSpans, "demo.Greeter/Say").getStatus().getCode()).isEqualTo(Status.StatusCode.STATUS_CODE_UNSET);
      assertThat(span(clientSpans, "demo.Greeter/Fail").getStatus().getCode()).isEqualTo(Status.StatusCode.STATUS_CODE_ERROR);
      assertThat(span(clientSpans, "demo.Greeter/Fail").getStatus().getMessage()).isEqualTo("no such greeting");
      assertThat(span(serverSpans, "demo.Greeter/Fail").getStatus().getCode()).isEqualTo(Status.StatusCode.STATUS_CODE_UNSET);
      assertThat(span(clientSpans, "demo.Greeter/Slow").getStatus().getCode()).isEqualTo(Status.StatusCode.STATUS_CODE_ERROR);
      assertThat(span(serverSpans, "demo.Greeter/Slow").getStatus().getCode()).isEqualTo(Status.StatusCode.STATUS_CODE_ERROR);

      // each call's server span is the child of its client span: the same HTTP/2 stream of the
      // mirrored connection, across the two processes
      for (String name : names) {
        Span call = span(clientSpans, name);
        Span served = span(serverSpans, name);
        assertThat(served.getParentSpanId()).as("parent of the server's %s", name).isEqualTo(call.getSpanId());
        assertThat(served.getTraceId()).as("trace of the server's %s", name).isEqualTo(call.getTraceId());
      }

      // metrics go out every second: wait for an export that counts all four calls on each side
      Await.until("rpc duration metrics of the four calls", TIMEOUT,
          () -> calls(receiver, "grpc-server", "rpc.server.duration") == 4
              && calls(receiver, "grpc-client", "rpc.client.duration") == 4,
          () -> "server " + calls(receiver, "grpc-server", "rpc.server.duration")
              + ", client " + calls(receiver, "grpc-client", "rpc.client.duration"));
      Metric served = receiver.latestMetricsOf("grpc-server").stream()
          .filter(m -> m.getName().equals("rpc.server.duration")).findFirst().orElseThrow();
      assertThat(served.getUnit()).isEqualTo("ms");
      assertThat(receiver.latestMetricsOf("grpc-server")).extracting(Metric::getName).doesNotContain("http.server.duration");
    }
  }
}
