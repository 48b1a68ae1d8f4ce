package dev.spanwire.exporter.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.spanwire.exporter.config.ConfigLayers;
import dev.spanwire.exporter.config.Environment;
import dev.spanwire.exporter.config.Settings;
import dev.spanwire.exporter.testing.Corpora;
import dev.spanwire.semconv.AgentMetric;
import dev.spanwire.semconv.HttpField;
import dev.spanwire.semconv.HttpMetric;
import dev.spanwire.semconv.NamingScheme;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The demo stack cannot run here (no Docker engine), so everything about it that can be checked
 * without one is: docker-compose.yml and every file it mounts parse, and their wiring holds —
 * mounted files exist, images are pinned, the agent exports to the collector's receiver, every
 * collector pipeline uses defined components whose endpoints are services and ports that accept
 * them, receivers listen on all interfaces, Grafana's datasources are services of the stack, and
 * the dashboard queries the Prometheus names Spanwire's metrics get.
 */
class ComposeStackTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path ROOT = Corpora.projectDir();
  private static final Pattern PINNED = Pattern.compile("[^:@]+:(?!latest$)[A-Za-z0-9][A-Za-z0-9._-]*\\d[A-Za-z0-9._-]*");

  private final JsonNode compose = yaml(ROOT.resolve("docker-compose.yml"));
  private final JsonNode services = compose.get("services");

  private static JsonNode yaml(Path file) {
    try {
      return YAML.readTree(file.toFile());
    } catch (IOException e) {
      throw new AssertionError("does not parse: " + file, e);
    }
  }

  private JsonNode service(String name) {
    assertThat(services.has(name)).as("service %s in docker-compose.yml", name).isTrue();
    return services.get(name);
  }

  /** "./src:/dst[:ro]" volumes of a service: destination -> source in the repository. */
  private Map<String, Path> mounts(String name) {
    Map<String, Path> mounts = new HashMap<>();
    for (JsonNode volume : service(name).path("volumes")) {
      String[] parts = volume.asText().split(":");
      if (parts[0].startsWith("./")) {
        mounts.put(parts[1], ROOT.resolve(parts[0].substring(2)).normalize());
      }
    }
    return mounts;
  }

  /** The repository file a service reads at {@code destination}. */
  private JsonNode mountedYaml(String name, String destination) {
    Path source = mounts(name).get(destination);
    assertThat(source).as("%s mounts %s", name, destination).isNotNull();
    return yaml(source);
  }

  private List<String> command(String name) {
    List<String> command = new ArrayList<>();
    service(name).path("command").forEach(c -> command.add(c.asText()));
    return command;
  }

  /** host and port of "host:port" or a URL. */
  private record Address(String host, int port) {
    static Address of(String endpoint) {
      String text = endpoint.contains("://") ? endpoint : "tcp://" + endpoint;
      URI uri = URI.create(text);
      return new Address(uri.getHost(), uri.getPort());
    }
  }

  private void assertService(Address address) {
    assertThat(services.has(address.host())).as("%s names a compose service", address).isTrue();
  }

  @Test
  void everyImageIsPinnedAndEveryMountedFileExists() {
    services.properties().forEach(e -> {
      JsonNode service = e.getValue();
      if (service.has("build")) {
        assertThat(ROOT.resolve(service.get("build").asText()).resolve("Dockerfile")).as(e.getKey()).isRegularFile();
      } else {
        assertThat(service.path("image").asText()).as("image of %s", e.getKey()).matches(PINNED);
      }
      for (JsonNode volume : service.path("volumes")) {
        String source = volume.asText().split(":")[0];
        if (source.startsWith("./")) {
          assertThat(ROOT.resolve(source.substring(2))).as("%s mounts %s", e.getKey(), source).exists();
        }
      }
    });
  }

  @Test
  void theAgentRunsPrivilegedOnTheHostAndExportsToTheCollectorsReceiver() {
    JsonNode agent = service("spanwire");
    assertThat(agent.path("privileged").asBoolean()).isTrue();
    assertThat(agent.path("pid").asText()).isEqualTo("host");
    assertThat(agent.path("uts").asText()).isEqualTo("host");
    List<String> volumes = new ArrayList<>();
    agent.path("volumes").forEach(v -> volumes.add(v.asText()));
    assertThat(volumes).contains("/sys/kernel/tracing:/sys/kernel/tracing", "/sys/fs/bpf:/sys/fs/bpf",
        "/sys/kernel/btf:/sys/kernel/btf:ro");

    Address endpoint = Address.of(agent.path("environment").path("OTEL_EXPORTER_OTLP_ENDPOINT").asText());
    assertThat(endpoint.host()).isEqualTo("otel-collector");
    JsonNode collector = collectorConfig();
    Address grpc = Address.of(collector.at("/receivers/otlp/protocols/grpc/endpoint").asText());
    assertThat(endpoint.port()).as("the agent's OTLP/gRPC port is the collector's").isEqualTo(grpc.port());
    assertThat(agent.path("depends_on").has("otel-collector")).isTrue();
  }

  private JsonNode collectorConfig() {
    List<String> command = command("otel-collector");
    String configPath = command.stream().filter(c -> c.startsWith("--config=")).findFirst().orElseThrow().substring(9);
    return mountedYaml("otel-collector", configPath);
  }

  @Test
  void collectorPipelinesUseDefinedComponentsThatReachServicesOfTheStack() {
    JsonNode collector = collectorConfig();
    // receivers bind to localhost unless told: these must take other containers' traffic
    collector.at("/receivers/otlp/protocols").forEach(p ->
        assertThat(p.path("endpoint").asText()).startsWith("0.0.0.0:"));

    Map<String, Set<String>> used = new HashMap<>();
    collector.at("/service/pipelines").properties().forEach(pipeline -> {
      for (String kind : List.of("receivers", "processors", "exporters")) {
        for (JsonNode component : pipeline.getValue().path(kind)) {
          assertThat(collector.path(kind).has(component.asText()))
              .as("%s of pipeline %s is defined", component.asText(), pipeline.getKey()).isTrue();
          used.computeIfAbsent(pipeline.getKey(), k -> new LinkedHashSet<>()).add(component.asText());
        }
      }
    });
    assertThat(used.get("traces")).contains("otlp", "otlp_grpc/jaeger", "otlp_grpc/tempo", "debug");
    assertThat(used.get("metrics")).contains("otlp", "otlp_http/prometheus", "debug");

    collector.path("exporters").properties().forEach(exporter -> {
      String type = exporter.getKey().split("/")[0];
      // current names: `logging` became `debug`, `otlp`/`otlphttp` are deprecated aliases
      assertThat(type).as(exporter.getKey()).isIn("otlp_grpc", "otlp_http", "debug");
      if (type.equals("otlp_grpc")) {
        Address target = Address.of(exporter.getValue().path("endpoint").asText());
        assertService(target);
        assertThat(target.port()).as(exporter.getKey()).isEqualTo(otlpGrpcPortOf(target.host()));
      } else if (type.equals("otlp_http")) {
        Address target = Address.of(exporter.getValue().path("metrics_endpoint").asText());
        assertService(target);
        assertThat(target.host()).isEqualTo("prometheus");
        assertThat(exporter.getValue().path("metrics_endpoint").asText()).endsWith("/api/v1/otlp/v1/metrics");
        assertThat(target.port()).isEqualTo(9090);
        assertThat(command("prometheus")).contains("--web.enable-otlp-receiver");
      }
    });
  }

  /** The OTLP/gRPC port a backend listens on for other containers. */
  private int otlpGrpcPortOf(String service) {
    return switch (service) {
      case "tempo" -> {
        JsonNode tempo = tempoConfig();
        Address grpc = Address.of(tempo.at("/distributor/receivers/otlp/protocols/grpc/endpoint").asText());
        assertThat(grpc.host()).as("tempo's receiver binds all interfaces").isEqualTo("0.0.0.0");
        yield grpc.port();
      }
      case "jaeger" -> {
        // Jaeger v2's built-in all-in-one config: OTLP/gRPC on ${JAEGER_LISTEN_HOST}:4317
        assertThat(service("jaeger").path("environment").path("JAEGER_LISTEN_HOST").asText()).isEqualTo("0.0.0.0");
        assertThat(service("jaeger").path("image").asText()).startsWith("jaegertracing/jaeger:2.");
        yield 4317;
      }
      default -> throw new AssertionError("no OTLP/gRPC backend named " + service);
    };
  }

  private JsonNode tempoConfig() {
    String path = command("tempo").stream().filter(c -> c.startsWith("-config.file=")).findFirst().orElseThrow()
        .substring("-config.file=".length());
    return mountedYaml("tempo", path);
  }

  @Test
  void tempoUsesTheMonolithicThreeZeroConfiguration() {
    JsonNode tempo = tempoConfig();
    assertThat(service("tempo").path("image").asText()).startsWith("grafana/tempo:3.");
    // Tempo 3.0 removed these blocks; a config with them does not start
    assertThat(tempo.has("ingester") || tempo.has("compactor") || tempo.has("ingester_client")
        || tempo.has("metrics_generator_client")).isFalse();
    assertThat(tempo.at("/storage/trace/backend").asText()).isEqualTo("local");
    tempo.at("/distributor/receivers/otlp/protocols").forEach(p -> assertThat(p.path("endpoint").asText()).startsWith("0.0.0.0:"));
  }

  @Test
  void grafanaDatasourcesAreServicesOfTheStackAndTheDashboardIsProvisioned() throws IOException {
    JsonNode grafana = service("grafana");
    assertThat(grafana.path("environment").path("GF_AUTH_ANONYMOUS_ENABLED").asText()).isEqualTo("true");
    assertThat(grafana.path("environment").path("GF_AUTH_ANONYMOUS_ORG_ROLE").asText()).isEqualTo("Viewer");
    JsonNode datasources = mountedYaml("grafana", "/etc/grafana/provisioning/datasources/datasources.yaml");
    Map<String, String> uids = new HashMap<>();
    for (JsonNode ds : datasources.path("datasources")) {
      Address url = Address.of(ds.path("url").asText());
      assertService(url);
      int expected = switch (ds.path("type").asText()) {
        case "prometheus" -> 9090;
        case "tempo" -> tempoConfig().at("/server/http_listen_port").asInt();
        case "jaeger" -> 16686;
        default -> throw new AssertionError("unexpected datasource " + ds);
      };
      assertThat(url.port()).as(ds.path("name").asText()).isEqualTo(expected);
      uids.put(ds.path("uid").asText(), ds.path("type").asText());
    }
    assertThat(uids.values()).containsExactlyInAnyOrder("prometheus", "tempo", "jaeger");

    JsonNode providers = mountedYaml("grafana", "/etc/grafana/provisioning/dashboards/dashboards.yaml");
    String dashboardDir = providers.at("/providers/0/options/path").asText();
    Path source = mounts("grafana").get(dashboardDir);
    assertThat(source).as("the dashboard folder is mounted where the provider reads").isDirectory();
    JsonNode dashboard = JSON.readTree(source.resolve("spanwire-http.json").toFile());
    assertThat(dashboard.path("title").asText()).isEqualTo("Spanwire HTTP");
    List<String> panelTypes = new ArrayList<>();
    for (JsonNode panel : dashboard.path("panels")) {
      String uid = panel.at("/datasource/uid").asText();
      assertThat(uids).as("panel %s's datasource", panel.path("title").asText()).containsKey(uid);
      panelTypes.add(uids.get(uid));
    }
    assertThat(panelTypes).contains("prometheus", "tempo");
  }

  /** The Prometheus name of an OTLP metric, as the OTLP receiver's default translation makes it. */
  static String prometheusName(String name, String unit, boolean counter) {
    List<String> tokens = new ArrayList<>(Arrays.asList(name.split("[^a-zA-Z0-9:]+")));
    String base = unit.replaceAll("\\{[^}]*\\}", "");
    String suffix = switch (base) {
      case "ms" -> "milliseconds";
      case "s" -> "seconds";
      case "By" -> "bytes";
      case "", "1" -> "";
      default -> throw new AssertionError("no Prometheus suffix known for unit " + unit);
    };
    if (!suffix.isEmpty() && !tokens.contains(suffix)) {
      tokens.add(suffix);
    }
    if (counter) {
      tokens.remove("total");
      tokens.add("total");
    }
    return String.join("_", tokens);
  }

  @Test
  void prometheusNamesFollowTheOtlpTranslation() {
    assertThat(prometheusName("http.server.duration", "ms", false)).isEqualTo("http_server_duration_milliseconds");
    assertThat(prometheusName("http.requests", "{request}", true)).isEqualTo("http_requests_total");
    assertThat(prometheusName("http.server.request.duration", "s", false)).isEqualTo("http_server_request_duration_seconds");
    // a name that already holds the unit word gets no second one
    assertThat(prometheusName("spanwire.bytes.captured", "By", true)).isEqualTo("spanwire_bytes_captured_total");
    assertThat(prometheusName("http.response.content_length", "By", false)).isEqualTo("http_response_content_length_bytes");
  }

  @Test
  void dashboardQueriesUseTheNamesSpanwiresMetricsGetInPrometheus() throws IOException {
    // the scheme the demo runs with: the shipped configuration the image uses
    NamingScheme scheme = Settings.from(ConfigLayers.load(ConfigLayers.file(ROOT.resolve("config/application.conf")),
        Environment.overrides(Map.of()), List.of())).export().scheme();
    Set<String> metrics = new LinkedHashSet<>();
    for (HttpMetric metric : HttpMetric.values()) {
      for (boolean server : new boolean[] {true, false}) {
        String base = prometheusName(metric.name(scheme, server), metric.unit(scheme), metric.kind() == HttpMetric.Kind.COUNTER);
        if (metric.kind() == HttpMetric.Kind.HISTOGRAM) {
          metrics.addAll(List.of(base + "_bucket", base + "_sum", base + "_count"));
        } else {
          metrics.add(base);
        }
      }
    }
    for (AgentMetric metric : AgentMetric.values()) {
      metrics.add(prometheusName(metric.metricName(), metric.unit(), metric.counter()));
    }
    Set<String> labels = new LinkedHashSet<>(List.of("le", "job", "instance"));
    for (HttpField field : List.of(HttpField.METHOD, HttpField.STATUS_CODE, HttpField.ROUTE, HttpField.SCHEME, HttpField.FLAVOR)) {
      labels.add(field.name(scheme).replaceAll("[^a-zA-Z0-9_]", "_"));
    }
    JsonNode prometheus = mountedYaml("prometheus", "/etc/prometheus/prometheus.yaml");
    prometheus.at("/otlp/promote_resource_attributes").forEach(a -> labels.add(a.asText().replaceAll("[^a-zA-Z0-9_]", "_")));

    Path dashboardFile = mounts("grafana").get("/var/lib/grafana/dashboards").resolve("spanwire-http.json");
    JsonNode dashboard = JSON.readTree(dashboardFile.toFile());
    List<String> queries = new ArrayList<>();
    dashboard.findValues("expr").forEach(e -> queries.add(e.asText()));
    dashboard.findValues("definition").forEach(e -> queries.add(e.asText()));
    assertThat(queries).isNotEmpty();
    Pattern selector = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)\\s*[\\[{]");
    Pattern byClause = Pattern.compile("by\\s*\\(([^)]*)\\)");
    Pattern matcher = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!~|!=|=)");
    Pattern labelValues = Pattern.compile("label_values\\(\\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\\s*,\\s*([a-zA-Z_][a-zA-Z0-9_]*)\\s*\\)");
    Set<String> usedMetrics = new LinkedHashSet<>();
    for (String query : queries) {
      Matcher m = selector.matcher(query);
      while (m.find()) {
        if (!m.group(1).equals("by")) {
          usedMetrics.add(m.group(1));
        }
      }
      Matcher lv = labelValues.matcher(query);
      while (lv.find()) {
        usedMetrics.add(lv.group(1));
        assertThat(labels).as("label in %s", query).contains(lv.group(2));
      }
      Matcher by = byClause.matcher(query);
      while (by.find()) {
        for (String label : by.group(1).split(",")) {
          assertThat(labels).as("label in %s", query).contains(label.strip());
        }
      }
      Matcher l = matcher.matcher(query);
      while (l.find()) {
        assertThat(labels).as("label in %s", query).contains(l.group(1));
      }
    }
    assertThat(metrics).as("every metric the dashboard queries is one Spanwire exports").containsAll(usedMetrics);
    String server = prometheusName(HttpMetric.SERVER_DURATION.name(scheme, true), HttpMetric.SERVER_DURATION.unit(scheme), false);
    assertThat(usedMetrics).contains(server + "_bucket", server + "_count",
        prometheusName(HttpMetric.REQUESTS.name(scheme, true), HttpMetric.REQUESTS.unit(scheme), true));
    String joined = String.join("\n", queries);
    for (String quantile : List.of("0.5", "0.95", "0.99")) {
      assertThat(joined).contains("histogram_quantile(" + quantile + ", sum by (le, service_name, " + labels.stream()
          .filter(x -> x.endsWith("route")).findFirst().orElseThrow() + ")");
    }
  }

  @Test
  void theImageIsBuiltByTheScriptCiRunsAndRunsTheShippedConfiguration() throws IOException {
    List<String> lines = Files.readAllLines(ROOT.resolve("Dockerfile"));
    List<String> from = lines.stream().filter(l -> l.startsWith("FROM ")).toList();
    assertThat(from).hasSize(2);
    from.forEach(l -> assertThat(l.split("\\s+")[1]).as(l).matches(PINNED));
    assertThat(from.getFirst()).contains("-jdk").contains(" AS build");
    assertThat(from.get(1)).contains("-jre");
    assertThat(lines).anyMatch(l -> l.matches("RUN scripts/build\\.sh.*"));
    assertThat(Files.readString(ROOT.resolve("scripts/test.sh"))).contains("scripts/build.sh");
    String dockerfile = String.join("\n", lines);
    assertThat(dockerfile).contains("COPY config/application.conf /etc/spanwire/application.conf")
        .contains("\"--config\", \"/etc/spanwire/application.conf\"")
        .contains("install -y --no-install-recommends libbpf1");
    // the image's JVM flags are the launcher's (scripts/lib.sh)
    java.util.regex.Matcher opts = java.util.regex.Pattern.compile("SPANWIRE_JAVA_OPTS:=([^}]*)}")
        .matcher(Files.readString(ROOT.resolve("scripts/lib.sh")));
    assertThat(opts.find()).as("SPANWIRE_JAVA_OPTS default in scripts/lib.sh").isTrue();
    String entrypoint = lines.stream().filter(l -> l.startsWith("ENTRYPOINT")).findFirst().orElseThrow();
    assertThat(entrypoint).contains(java.util.Arrays.stream(opts.group(1).trim().split("\\s+"))
        .map(o -> "\"" + o + "\", ").reduce("\"java\", ", String::concat));
    // and so is the C heap's environment
    String lib = Files.readString(ROOT.resolve("scripts/lib.sh"));
    for (String variable : List.of("MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_")) {
      java.util.regex.Matcher value = java.util.regex.Pattern.compile(variable + "=\"?\\$\\{" + variable + ":-(\\d+)}")
          .matcher(lib);
      assertThat(value.find()).as(variable + " default in scripts/lib.sh").isTrue();
      assertThat(lines).as(variable).anyMatch(l -> l.matches("ENV (.* )?" + variable + "=" + value.group(1) + "( .*)?"));
    }
    List<String> ignored = Files.readAllLines(ROOT.resolve(".dockerignore"));
    assertThat(ignored).contains(".git", "**/target");
  }

  @Test
  void theLoadReachesEveryKindOfEndpoint() throws IOException {
    Path script = mounts("loadgen").get("/loadgen.sh");
    String load = Files.readString(script);
    assertThat(load).contains("-X POST", "/status/404", "/status/503", "/delay/", "https://https-echo:8443/");
    assertThat(service("loadgen").path("image").asText()).startsWith("curlimages/curl:");
    String nginx = Files.readString(mounts("frontend").get("/etc/nginx/conf.d/default.conf"));
    assertThat(nginx).contains("server backend:8080;", "proxy_pass https://https-echo:8443/;");
  }
}
