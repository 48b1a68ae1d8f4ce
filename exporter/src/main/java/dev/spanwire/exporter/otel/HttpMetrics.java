package dev.spanwire.exporter.otel;

import dev.spanwire.bpf.KernelClock;
import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.ProcessInfo;
import dev.spanwire.exporter.exchange.RouteTemplate;
import dev.spanwire.semconv.HttpField;
import dev.spanwire.semconv.HttpMetric;
import dev.spanwire.semconv.RpcField;
import dev.spanwire.semconv.RpcMetric;
import dev.spanwire.exporter.exchange.GrpcCall;
import dev.spanwire.semconv.NamingScheme;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.HistogramData;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.MetricDataType;
import io.opentelemetry.sdk.metrics.data.SumData;
import io.opentelemetry.sdk.resources.Resource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Spanwire's HTTP metrics, aggregated per traced process (its own resource) and label set:
 * {@code http.requests} and the duration and body-size histograms with explicit buckets, all
 * cumulative. Labels are bounded by construction (method, status code, route template, scheme,
 * flavor; never raw targets or ports) and by a cardinality limit per metric and process, past
 * which values go to one series labelled {@code otel.metric.overflow=true}.
 *
 * <p>{@link #record} runs on the pipeline thread for every exchange (filters never hide one from
 * the metrics); {@link #collect} on the export thread. Both take this object's lock, briefly.
 */
final class HttpMetrics {
  static final AttributeKey<Boolean> OVERFLOW = AttributeKey.booleanKey("otel.metric.overflow");
  /** A process's series are released this long after its last exchange once it has exited. */
  static final long RELEASE_AFTER_NANOS = 300_000_000_000L;

  private final NamingScheme scheme;
  private final ProcessResources resources;
  private final InstrumentationScopeInfo scope;
  private final KernelClock clock;
  private final int cardinalityLimit;
  private final java.util.function.IntPredicate processAlive;
  private final Map<ProcessInfo, ProcessSeries> processes = new HashMap<>();
  private final AttributeKey<String> method;
  private final AttributeKey<Long> status;
  private final AttributeKey<String> route;
  private final AttributeKey<String> urlScheme;
  private final AttributeKey<String> flavor;
  private final AttributeKey<String> rpcSystem;
  private final AttributeKey<String> rpcService;
  private final AttributeKey<String> rpcMethod;
  private final AttributeKey<Long> rpcStatus;

  /** The labels of one series, cheap to hash; its attributes are built once. */
  private record Labels(String method, int status, String route, String scheme, String flavor) {
    // written out: the generated ones go through method handles (see ProcessInfo#equals)
    @Override
    public int hashCode() {
      return (((Objects.hashCode(method) * 31 + status) * 31 + Objects.hashCode(route)) * 31
          + Objects.hashCode(scheme)) * 31 + Objects.hashCode(flavor);
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof Labels that
          && status == that.status && Objects.equals(route, that.route) && Objects.equals(method, that.method)
          && Objects.equals(scheme, that.scheme) && Objects.equals(flavor, that.flavor);
    }
  }
  // a gRPC call's series: Labels(rpc method, grpc status or -1, service, "grpc", null)

  private static final class Histogram {
    final Attributes attributes;
    final long startEpochNanos;
    final long[] counts;
    long count;
    double sum;
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;

    Histogram(Attributes attributes, long startEpochNanos, int buckets) {
      this.attributes = attributes;
      this.startEpochNanos = startEpochNanos;
      this.counts = new long[buckets + 1];
    }

    void add(double value, double[] boundaries) {
      // bucket i holds values in (boundaries[i-1], boundaries[i]]
      int i = Arrays.binarySearch(boundaries, value);
      counts[i >= 0 ? i : -i - 1]++;
      count++;
      sum += value;
      min = Math.min(min, value);
      max = Math.max(max, value);
    }
  }

  private static final class Counter {
    final Attributes attributes;
    final long startEpochNanos;
    long value;

    Counter(Attributes attributes, long startEpochNanos) {
      this.attributes = attributes;
      this.startEpochNanos = startEpochNanos;
    }
  }

  /**
   * One metric of one process: its series by label set, bounded. A series is made by the
   * subclass, not by a function handed to each lookup: a capturing lambda per lookup was an
   * allocation per exchange and metric, through the runtime where the caller ran as C1 compiled it.
   */
  private abstract class Series<T> {
    final Map<Labels, T> byLabels = new LinkedHashMap<>();
    T overflow;

    abstract T create(Attributes attributes, long startEpochNanos);

    /** The series of {@code labels}, made starting at {@code startEpochNanos} when it is new. */
    T get(Labels labels, long startEpochNanos) {
      T series = byLabels.get(labels);
      if (series != null) {
        return series;
      }
      if (byLabels.size() >= cardinalityLimit) {
        if (overflow == null) {
          overflow = create(Attributes.of(OVERFLOW, true), startEpochNanos);
        }
        return overflow;
      }
      series = create(attributes(labels), startEpochNanos);
      byLabels.put(labels, series);
      return series;
    }

    List<T> all() {
      List<T> all = new ArrayList<>(byLabels.values());
      if (overflow != null) {
        all.add(overflow);
      }
      return all;
    }
  }

  private final class Counters extends Series<Counter> {
    @Override
    Counter create(Attributes attributes, long startEpochNanos) {
      return new Counter(attributes, startEpochNanos);
    }
  }

  private final class Histograms extends Series<Histogram> {
    private final int buckets;

    Histograms(double[] bounds) {
      this.buckets = bounds.length;
    }

    @Override
    Histogram create(Attributes attributes, long startEpochNanos) {
      return new Histogram(attributes, startEpochNanos, buckets);
    }
  }

  private final class ProcessSeries {
    final Resource resource;
    final Series<Counter> requests = new Counters();
    final Series<Histogram> serverDuration = new Histograms(durationBuckets);
    final Series<Histogram> clientDuration = new Histograms(durationBuckets);
    final Series<Histogram> rpcServerDuration = new Histograms(rpcBuckets);
    final Series<Histogram> rpcClientDuration = new Histograms(rpcBuckets);
    final Series<Histogram> serverRequestSize = new Histograms(sizeBuckets);
    final Series<Histogram> clientRequestSize = new Histograms(sizeBuckets);
    final Series<Histogram> serverResponseSize = new Histograms(sizeBuckets);
    final Series<Histogram> clientResponseSize = new Histograms(sizeBuckets);
    long lastUpdateNanos;

    ProcessSeries(Resource resource) {
      this.resource = resource;
    }

    Series<Histogram> requestSize(boolean server) {
      return server ? serverRequestSize : clientRequestSize;
    }

    Series<Histogram> responseSize(boolean server) {
      return server ? serverResponseSize : clientResponseSize;
    }
  }

  private final double[] durationBuckets;
  private final double[] sizeBuckets;
  private final double[] rpcBuckets;

  HttpMetrics(
      NamingScheme scheme,
      ProcessResources resources,
      InstrumentationScopeInfo scope,
      KernelClock clock,
      int cardinalityLimit,
      java.util.function.IntPredicate processAlive) {
    this.scheme = scheme;
    this.resources = resources;
    this.scope = scope;
    this.clock = clock;
    this.cardinalityLimit = cardinalityLimit;
    this.processAlive = processAlive;
    this.method = AttributeKey.stringKey(HttpField.METHOD.name(scheme));
    this.status = AttributeKey.longKey(HttpField.STATUS_CODE.name(scheme));
    this.route = AttributeKey.stringKey(HttpField.ROUTE.name(scheme));
    this.urlScheme = AttributeKey.stringKey(HttpField.SCHEME.name(scheme));
    this.flavor = AttributeKey.stringKey(HttpField.FLAVOR.name(scheme));
    this.rpcSystem = AttributeKey.stringKey(RpcField.SYSTEM.name(scheme));
    this.rpcService = AttributeKey.stringKey(RpcField.SERVICE.name(scheme));
    this.rpcMethod = AttributeKey.stringKey(RpcField.METHOD.name(scheme));
    this.rpcStatus = AttributeKey.longKey(RpcField.GRPC_STATUS_CODE.name(scheme));
    this.rpcBuckets = toArray(RpcMetric.SERVER_DURATION.buckets(scheme));
    this.durationBuckets = toArray(HttpMetric.SERVER_DURATION.buckets(scheme));
    this.sizeBuckets = toArray(HttpMetric.REQUEST_CONTENT_LENGTH.buckets(scheme));
  }

  private static double[] toArray(List<Double> values) {
    return values.stream().mapToDouble(Double::doubleValue).toArray();
  }

  private Attributes attributes(Labels labels) {
    if (labels.flavor() == null) {
      AttributesBuilder b = Attributes.builder().put(rpcSystem, RpcField.GRPC).put(rpcService, labels.route())
          .put(rpcMethod, labels.method());
      if (labels.status() >= 0) {
        b.put(rpcStatus, labels.status());
      }
      return b.build();
    }
    AttributesBuilder b = Attributes.builder().put(method, labels.method());
    if (labels.status() > 0) {
      b.put(status, labels.status());
    }
    return b.put(route, labels.route()).put(urlScheme, labels.scheme()).put(flavor, labels.flavor()).build();
  }

  /** Counts one exchange. */
  synchronized void record(Exchange exchange) {
    ProcessInfo process = exchange.connection().process();
    ProcessSeries series = processes.get(process);
    if (series == null) {
      series = new ProcessSeries(resources.of(process));
      processes.put(process, series);
    }
    series.lastUpdateNanos = exchange.endNanos();
    var request = exchange.request();
    GrpcCall call = GrpcCall.of(exchange);
    if (call != null) {
      // a gRPC call counts as a call, not as HTTP traffic (as OpenTelemetry's gRPC instrumentation has it)
      if (exchange.response() != null || call.statusCode() >= 0) {
        // a call reset before its response (a deadline, a cancel) lasted until the reset
        long nanos = exchange.response() != null ? exchange.durationNanos() : exchange.endNanos() - request.headNanos();
        Labels labels = new Labels(call.method(), call.statusCode(), call.service(), RpcField.GRPC, null);
        long start = clock.toEpochNanos(exchange.startNanos());
        boolean server = exchange.role() != Role.CLIENT;
        (server ? series.rpcServerDuration : series.rpcClientDuration).get(labels, start)
            .add(Math.max(0, nanos) / 1e6, rpcBuckets);
      }
      return;
    }
    Labels labels = new Labels(
        request.method(), exchange.statusCode(), RouteTemplate.of(request.target()),
        exchange.connection().scheme(), HttpField.version(scheme, exchange.version()));
    long start = clock.toEpochNanos(exchange.startNanos());
    series.requests.get(labels, start).value++;
    boolean server = exchange.role() != Role.CLIENT;
    if (exchange.response() != null) {
      HttpMetric metric = server ? HttpMetric.SERVER_DURATION : HttpMetric.CLIENT_DURATION;
      double millis = exchange.durationNanos() / 1e6;
      (server ? series.serverDuration : series.clientDuration)
          .get(labels, start)
          .add(millis * metric.millisecondsToUnit(scheme), durationBuckets);
      long responseBytes = exchange.response().bodySize();
      if (responseBytes >= 0) {
        series.responseSize(server).get(labels, start).add(responseBytes, sizeBuckets);
      }
    }
    long requestBytes = request.bodySize();
    if (requestBytes >= 0) {
      series.requestSize(server).get(labels, start).add(requestBytes, sizeBuckets);
    }
  }

  /**
   * The cumulative values as of {@code nowEpochNanos}. Processes that exited more than
   * {@link #RELEASE_AFTER_NANOS} after their last exchange are reported one last time, then released.
   */
  synchronized List<MetricData> collect(long nowEpochNanos, long nowMonotonicNanos) {
    List<MetricData> metrics = new ArrayList<>();
    for (Iterator<Map.Entry<ProcessInfo, ProcessSeries>> it = processes.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<ProcessInfo, ProcessSeries> entry = it.next();
      ProcessSeries series = entry.getValue();
      addCounter(metrics, series.resource, HttpMetric.REQUESTS, true, series.requests, nowEpochNanos);
      addHistogram(metrics, series.resource, HttpMetric.SERVER_DURATION, true, series.serverDuration, durationBuckets, nowEpochNanos);
      addHistogram(metrics, series.resource, HttpMetric.CLIENT_DURATION, false, series.clientDuration, durationBuckets, nowEpochNanos);
      addRpcHistogram(metrics, series.resource, RpcMetric.SERVER_DURATION, series.rpcServerDuration, nowEpochNanos);
      addRpcHistogram(metrics, series.resource, RpcMetric.CLIENT_DURATION, series.rpcClientDuration, nowEpochNanos);
      for (boolean server : new boolean[] {true, false}) {
        addHistogram(metrics, series.resource, HttpMetric.REQUEST_CONTENT_LENGTH, server, series.requestSize(server), sizeBuckets, nowEpochNanos);
        addHistogram(metrics, series.resource, HttpMetric.RESPONSE_CONTENT_LENGTH, server, series.responseSize(server), sizeBuckets, nowEpochNanos);
      }
      if (nowMonotonicNanos - series.lastUpdateNanos > RELEASE_AFTER_NANOS && !processAlive.test(entry.getKey().pid())) {
        it.remove();
      }
    }
    return metrics;
  }

  synchronized int processCount() {
    return processes.size();
  }

  private void addCounter(List<MetricData> out, Resource resource, HttpMetric metric, boolean server, Series<Counter> series, long now) {
    List<Counter> counters = series.all();
    if (counters.isEmpty()) {
      return;
    }
    List<LongPointData> points = new ArrayList<>(counters.size());
    for (Counter c : counters) {
      points.add(LongPointData.create(c.startEpochNanos, now, c.attributes, c.value));
    }
    out.add(new Metric(resource, scope, metric.name(scheme, server), metric.description(), metric.unit(scheme),
        MetricDataType.LONG_SUM, SumData.createLongSumData(true, AggregationTemporality.CUMULATIVE, points)));
  }

  private void addHistogram(
      List<MetricData> out, Resource resource, HttpMetric metric, boolean server, Series<Histogram> series, double[] boundaries, long now) {
    addHistogram(out, resource, metric.name(scheme, server), metric.description(), metric.unit(scheme), series, boundaries, now);
  }

  private void addRpcHistogram(List<MetricData> out, Resource resource, RpcMetric metric, Series<Histogram> series, long now) {
    addHistogram(out, resource, metric.name(scheme), metric.description(), metric.unit(scheme), series, rpcBuckets, now);
  }

  private void addHistogram(
      List<MetricData> out, Resource resource, String name, String description, String unit, Series<Histogram> series,
      double[] boundaries, long now) {
    List<Histogram> histograms = series.all();
    if (histograms.isEmpty()) {
      return;
    }
    List<Double> bounds = Arrays.stream(boundaries).boxed().toList();
    List<HistogramPointData> points = new ArrayList<>(histograms.size());
    for (Histogram h : histograms) {
      points.add(HistogramPointData.create(
          h.startEpochNanos, now, h.attributes, h.sum, h.count > 0, h.min, h.count > 0, h.max, bounds,
          Arrays.stream(h.counts).boxed().toList()));
    }
    out.add(new Metric(resource, scope, name, description, unit,
        MetricDataType.HISTOGRAM, HistogramData.create(AggregationTemporality.CUMULATIVE, points)));
  }
}
