package dev.spanwire.exporter.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.spanwire.exporter.testing.Corpora;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * No cluster runs here, so the manifests are checked the way the compose stack is: they parse, and
 * their wiring holds — images pinned, the agent on the host with the mounts the compose agent has,
 * the agent's endpoint the gateway's Service and the port its receiver listens on, every pipeline
 * component defined, exactly the RBAC k8s_attributes needs, container.id in its association, the
 * liveness probe reading the file the agent writes, the agent's config the shipped one, and the
 * overlay's agent pointed at its node's Collector. When kubectl is installed, kustomize must also
 * build both.
 */
class KubernetesManifestsTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Path ROOT = Corpora.projectDir();
  private static final Path BASE = ROOT.resolve("deploy/kubernetes/base");
  private static final Path OVERLAY = ROOT.resolve("deploy/kubernetes/overlays/node-collector");
  private static final Pattern PINNED = Pattern.compile("[^:@]+:(?!latest$)[A-Za-z0-9][A-Za-z0-9._-]*\\d[A-Za-z0-9._-]*");

  private static List<JsonNode> documents(Path file) {
    try {
      List<JsonNode> docs = new ArrayList<>();
      YAML.readerFor(JsonNode.class).readValues(file.toFile()).forEachRemaining(d -> {
        if (d != null && !((JsonNode) d).isNull()) {
          docs.add((JsonNode) d);
        }
      });
      return docs;
    } catch (IOException e) {
      throw new AssertionError("does not parse: " + file, e);
    }
  }

  private static JsonNode yaml(Path file) {
    return documents(file).getFirst();
  }

  /** Every resource of a kustomization's resources, by "Kind/name". */
  private static Map<String, JsonNode> resources(Path dir) {
    Map<String, JsonNode> all = new HashMap<>();
    for (JsonNode entry : yaml(dir.resolve("kustomization.yaml")).path("resources")) {
      Path file = dir.resolve(entry.asText()).normalize();
      if (Files.isDirectory(file)) {
        all.putAll(resources(file));
        continue;
      }
      assertThat(file).as("resource of %s", dir).isRegularFile();
      for (JsonNode doc : documents(file)) {
        all.put(doc.path("kind").asText() + "/" + doc.at("/metadata/name").asText(), doc);
      }
    }
    return all;
  }

  private static JsonNode container(JsonNode workload) {
    return workload.at("/spec/template/spec/containers/0");
  }

  private static String env(JsonNode container, String name) {
    for (JsonNode e : container.path("env")) {
      if (e.path("name").asText().equals(name)) {
        return e.path("value").asText();
      }
    }
    throw new AssertionError("no " + name + " in " + container);
  }

  private final Map<String, JsonNode> base = resources(BASE);
  private final JsonNode agent = base.get("DaemonSet/spanwire-agent");
  private final JsonNode gateway = base.get("Deployment/spanwire-gateway");
  private final JsonNode collector = yaml(BASE.resolve("gateway-collector.yaml"));

  @Test
  void everyImageIsPinned() {
    Map<String, JsonNode> all = new HashMap<>(base);
    all.putAll(resources(OVERLAY));
    all.forEach((name, resource) -> {
      for (JsonNode c : resource.at("/spec/template/spec/containers")) {
        assertThat(c.path("image").asText()).as("image of %s", name).matches(PINNED);
      }
    });
  }

  @Test
  void theAgentRunsOnEveryHostWithTheComposeAgentsMountsAndNoApiAccess() throws IOException {
    JsonNode pod = agent.at("/spec/template/spec");
    assertThat(pod.path("hostPID").asBoolean()).isTrue();
    assertThat(pod.path("automountServiceAccountToken").asBoolean(true)).isFalse();
    assertThat(pod.at("/tolerations/0/operator").asText()).isEqualTo("Exists");
    assertThat(container(agent).at("/securityContext/privileged").asBoolean()).isTrue();
    // the compose agent's host mounts, host path = container path, read-only where it is
    JsonNode compose = YAML.readTree(ROOT.resolve("docker-compose.yml").toFile()).at("/services/spanwire/volumes");
    Map<String, String> hostPaths = new HashMap<>();
    for (JsonNode volume : pod.path("volumes")) {
      if (volume.has("hostPath")) {
        hostPaths.put(volume.path("name").asText(), volume.at("/hostPath/path").asText());
      }
    }
    Set<String> mounts = new TreeSet<>();
    for (JsonNode mount : container(agent).path("volumeMounts")) {
      String host = hostPaths.get(mount.path("name").asText());
      if (host != null) {
        mounts.add(host + ":" + mount.path("mountPath").asText() + (mount.path("readOnly").asBoolean() ? ":ro" : ""));
      }
    }
    Set<String> expected = new TreeSet<>();
    compose.forEach(v -> expected.add(v.asText()));
    assertThat(mounts).isEqualTo(expected);
    // its resource limits leave room for what the benchmarks measured (176 MiB with export at load)
    assertThat(container(agent).at("/resources/limits/memory").asText()).isEqualTo("256Mi");
  }

  @Test
  void theAgentsConfigurationIsTheShippedOne() throws IOException {
    assertThat(Files.readString(BASE.resolve("application.conf"))).isEqualTo(Files.readString(ROOT.resolve("config/application.conf")));
    JsonNode generator = yaml(BASE.resolve("kustomization.yaml")).path("configMapGenerator");
    assertThat(generator.findValuesAsText("name")).contains("spanwire-agent-config", "spanwire-gateway-config");
    // mounted where the image's entrypoint reads it (Dockerfile: --config /etc/spanwire/application.conf)
    assertThat(Files.readString(ROOT.resolve("Dockerfile"))).contains("\"--config\", \"/etc/spanwire/application.conf\"");
    JsonNode mount = null;
    for (JsonNode m : container(agent).path("volumeMounts")) {
      if (m.path("name").asText().equals("config")) {
        mount = m;
      }
    }
    assertThat(mount).isNotNull();
    assertThat(mount.path("mountPath").asText()).isEqualTo("/etc/spanwire");
  }

  @Test
  void theLivenessProbeReadsTheFileTheAgentWrites() {
    String file = env(container(agent), "SPANWIRE_HEALTH_FILE");
    String probe = container(agent).at("/livenessProbe/exec/command").get(2).asText();
    assertThat(probe).contains("cat " + file).contains("-lt 60");
    // the file's directory is a volume the agent can write
    boolean writable = false;
    for (JsonNode m : container(agent).path("volumeMounts")) {
      writable |= file.startsWith(m.path("mountPath").asText() + "/") && !m.path("readOnly").asBoolean();
    }
    assertThat(writable).as("%s on a writable mount", file).isTrue();
  }

  @Test
  void theAgentExportsToTheGatewaysServiceOnThePortItsReceiverListensOn() {
    URI endpoint = URI.create(env(container(agent), "OTEL_EXPORTER_OTLP_ENDPOINT"));
    JsonNode service = base.get("Service/spanwire-gateway");
    assertThat(endpoint.getHost()).isEqualTo("spanwire-gateway.spanwire.svc");
    assertThat(yaml(BASE.resolve("kustomization.yaml")).path("namespace").asText()).isEqualTo("spanwire");
    JsonNode port = null;
    for (JsonNode p : service.at("/spec/ports")) {
      if (p.path("port").asInt() == endpoint.getPort()) {
        port = p;
      }
    }
    assertThat(port).as("a Service port %d", endpoint.getPort()).isNotNull();
    assertThat(service.at("/spec/selector")).isEqualTo(gateway.at("/spec/template/metadata/labels"));
    int containerPort = -1;
    for (JsonNode p : container(gateway).path("ports")) {
      if (p.path("name").asText().equals(port.path("targetPort").asText())) {
        containerPort = p.path("containerPort").asInt();
      }
    }
    URI grpc = URI.create("tcp://" + collector.at("/receivers/otlp/protocols/grpc/endpoint").asText());
    assertThat(grpc.getHost()).isEqualTo("0.0.0.0");
    assertThat(containerPort).isEqualTo(grpc.getPort());
  }

  @Test
  void everyPipelineComponentIsDefinedAndTheGatewayAddsPodMetadataByContainerId() {
    for (JsonNode pipeline : collector.at("/service/pipelines")) {
      for (String section : List.of("receivers", "processors", "exporters")) {
        for (JsonNode name : pipeline.path(section)) {
          assertThat(collector.path(section).has(name.asText())).as("%s %s defined", section, name.asText()).isTrue();
        }
      }
    }
    collector.at("/service/extensions").forEach(e -> assertThat(collector.path("extensions").has(e.asText())).isTrue());
    // the probes ask the health_check extension
    String health = collector.at("/extensions/health_check/endpoint").asText();
    assertThat(container(gateway).at("/livenessProbe/httpGet/port").asInt()).isEqualTo(URI.create("tcp://" + health).getPort());
    JsonNode k8s = collector.at("/processors/k8s_attributes");
    assertThat(k8s.at("/pod_association/0/sources/0/from").asText()).isEqualTo("resource_attribute");
    assertThat(k8s.at("/pod_association/0/sources/0/name").asText()).isEqualTo("container.id");
    List<String> metadata = new ArrayList<>();
    k8s.at("/extract/metadata").forEach(m -> metadata.add(m.asText()));
    assertThat(metadata).contains("k8s.namespace.name", "k8s.pod.name", "k8s.deployment.name");
    // every pipeline enriches before it names, and names only what the process did not
    for (JsonNode pipeline : collector.at("/service/pipelines")) {
      List<String> processors = new ArrayList<>();
      pipeline.path("processors").forEach(p -> processors.add(p.asText()));
      assertThat(processors).containsExactly("memory_limiter", "k8s_attributes", "transform/service_name");
    }
    String statements = collector.at("/processors/transform~1service_name").toString();
    assertThat(statements).contains("spanwire.service.name.source\\\"] == \\\"executable\\\"");
  }

  @Test
  void theGatewayMayReadExactlyWhatK8sAttributesNeeds() {
    JsonNode role = base.get("ClusterRole/spanwire-gateway");
    Set<String> grants = new TreeSet<>();
    for (JsonNode rule : role.path("rules")) {
      for (JsonNode group : rule.path("apiGroups")) {
        for (JsonNode resource : rule.path("resources")) {
          List<String> verbs = new ArrayList<>();
          rule.path("verbs").forEach(v -> verbs.add(v.asText()));
          grants.add(group.asText() + "/" + resource.asText() + " " + verbs);
        }
      }
    }
    assertThat(grants).containsExactly("/namespaces [get, list, watch]", "/pods [get, list, watch]",
        "apps/replicasets [get, list, watch]");
    JsonNode binding = base.get("ClusterRoleBinding/spanwire-gateway");
    assertThat(binding.at("/roleRef/name").asText()).isEqualTo("spanwire-gateway");
    assertThat(binding.at("/subjects/0/name").asText()).isEqualTo(gateway.at("/spec/template/spec/serviceAccountName").asText());
    assertThat(binding.at("/subjects/0/namespace").asText()).isEqualTo("spanwire");
  }

  @Test
  void theOverlaysAgentSendsToItsNodesCollector() {
    Map<String, JsonNode> overlay = resources(OVERLAY);
    JsonNode node = overlay.get("DaemonSet/spanwire-node-collector");
    int hostPort = -1;
    for (JsonNode p : container(node).path("ports")) {
      if (p.path("name").asText().equals("otlp-grpc")) {
        hostPort = p.path("hostPort").asInt();
      }
    }
    assertThat(hostPort).isEqualTo(4317);
    assertThat(node.at("/spec/template/spec/serviceAccountName").asText()).isEqualTo("spanwire-gateway");
    String patches = yaml(OVERLAY.resolve("kustomization.yaml")).path("patches").toString();
    assertThat(patches).contains("status.hostIP").contains("http://$(NODE_IP):4317").contains("$patch: delete");
  }

  @Test
  void kustomizeBuildsBoth() throws Exception {
    Path kubectl = Path.of("/usr/bin/kubectl");
    if (!Files.isExecutable(kubectl)) {
      System.out.println("KubernetesManifestsTest: no kubectl here, kustomize build not run (the checks above still ran)");
      return;
    }
    for (Path dir : List.of(ROOT.resolve("deploy/kubernetes"), OVERLAY)) {
      Process p = new ProcessBuilder(kubectl.toString(), "kustomize", dir.toString()).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as("kubectl kustomize %s: %s", dir, out).isZero();
      assertThat(out).contains("kind: DaemonSet").contains("name: spanwire-agent");
    }
  }
}
