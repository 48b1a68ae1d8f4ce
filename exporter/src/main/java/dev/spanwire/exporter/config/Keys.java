package dev.spanwire.exporter.config;

/** The configuration paths Spanwire reads; reference.conf documents each. */
public final class Keys {
  private Keys() {}

  public static final String PID = "spanwire.capture.pid";
  public static final String COMM = "spanwire.capture.comm";
  public static final String PORTS = "spanwire.capture.ports";
  public static final String CAPTURE_BYTES = "spanwire.capture.bytes-per-syscall";
  public static final String CAPTURE_BACKEND = "spanwire.capture.backend";
  public static final String RING_BUFFER_SIZE = "spanwire.capture.ring-buffer-size";
  public static final String CATCH_UP_NICE = "spanwire.capture.catch-up-nice";

  public static final String PROTOCOL_REGEX = "spanwire.protocol.regex";
  public static final String PROTOCOL_DETECT = "spanwire.protocol.detect";

  public static final String CAPTURE_REQUEST = "spanwire.http.capture-request";
  public static final String CAPTURE_RESPONSE = "spanwire.http.capture-response";
  public static final String MAX_BODY_SIZE = "spanwire.http.max-body-size";
  public static final String MIN_LATENCY = "spanwire.http.min-latency";
  public static final String MAX_CONNECTIONS = "spanwire.http.max-connections";
  public static final String IDLE_TIMEOUT = "spanwire.http.idle-timeout";

  public static final String WATCH = "spanwire.watch";

  public static final String REDACT_HEADERS = "spanwire.redaction.headers";
  public static final String REDACT_QUERY_PARAMETERS = "spanwire.redaction.query-parameters";
  public static final String REDACT_REPLACEMENT = "spanwire.redaction.replacement";

  public static final String OUTPUT = "spanwire.output.format";
  public static final String COLUMNS = "spanwire.output.columns";

  public static final String METRICS_OUTPUT = "spanwire.metrics.output";
  public static final String METRICS_STATSD = "spanwire.metrics.statsd";
  public static final String METRICS_INTERVAL = "spanwire.metrics.interval";
  public static final String METRICS_PER_EXCHANGE = "spanwire.metrics.per-exchange";
  public static final String METRICS_AGENT = "spanwire.metrics.agent";

  public static final String HEALTH_FILE = "spanwire.health-file";

  public static final String EVENTS_TRACE_IDS = "spanwire.events.trace-ids";

  public static final String SEMCONV = "spanwire.semconv";

  public static final String TRACES_SAMPLER = "spanwire.traces.sampler";
  public static final String TRACES_SAMPLER_ARG = "spanwire.traces.sampler-arg";
  public static final String TRACES_LINKING_WINDOW = "spanwire.traces.linking-window";

  public static final String OTLP_ENDPOINT = "spanwire.otlp.endpoint";
  public static final String OTLP_TRACES_ENDPOINT = "spanwire.otlp.traces-endpoint";
  public static final String OTLP_METRICS_ENDPOINT = "spanwire.otlp.metrics-endpoint";
  public static final String OTLP_PROTOCOL = "spanwire.otlp.protocol";
  public static final String OTLP_HEADERS = "spanwire.otlp.headers";
  public static final String OTLP_COMPRESSION = "spanwire.otlp.compression";
  public static final String OTLP_TIMEOUT = "spanwire.otlp.timeout";
  public static final String OTLP_CERTIFICATE = "spanwire.otlp.certificate";
  public static final String OTLP_CLIENT_KEY = "spanwire.otlp.client-key";
  public static final String OTLP_CLIENT_CERTIFICATE = "spanwire.otlp.client-certificate";
  public static final String OTLP_TRACES = "spanwire.otlp.traces";
  public static final String OTLP_METRICS = "spanwire.otlp.metrics";
  public static final String OTLP_QUEUE = "spanwire.otlp.batch.max-queue-size";
  public static final String OTLP_BATCH = "spanwire.otlp.batch.max-export-batch-size";
  public static final String OTLP_DELAY = "spanwire.otlp.batch.schedule-delay";
  public static final String OTLP_CONCURRENT = "spanwire.otlp.batch.max-concurrent-exports";
  public static final String OTLP_METRIC_INTERVAL = "spanwire.otlp.metric-interval";
  public static final String OTLP_CARDINALITY_LIMIT = "spanwire.otlp.cardinality-limit";
  public static final String OTLP_SERVICE_NAME = "spanwire.otlp.service-name";
  public static final String OTLP_RESOURCE_ATTRIBUTES = "spanwire.otlp.resource-attributes";

  /** Objects whose keys are the user's own (header names, resource attributes), not settings. */
  static boolean isFreeForm(String path) {
    return path.equals(OTLP_HEADERS) || path.equals(OTLP_RESOURCE_ATTRIBUTES);
  }
}
