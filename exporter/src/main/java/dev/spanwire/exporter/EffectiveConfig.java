package dev.spanwire.exporter;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import dev.spanwire.exporter.config.ConfigLayers;
import dev.spanwire.exporter.config.Keys;
import dev.spanwire.exporter.config.Settings;
import java.io.PrintWriter;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code spanwire config}: every setting's effective value and where it came from (a flag, an
 * environment variable, the {@code --config} file and line, or reference.conf). Values of export
 * headers (API keys) are hidden.
 */
final class EffectiveConfig {
  private EffectiveConfig() {}

  static void print(Config config, PrintWriter out) {
    Map<String, ConfigValue> leaves = new TreeMap<>();
    config.getConfig(ConfigLayers.ROOT).entrySet().forEach(e -> leaves.put(ConfigLayers.ROOT + "." + e.getKey(), e.getValue()));
    // an empty object has no leaves, but is a setting all the same
    for (String path : new String[] {Keys.OTLP_HEADERS, Keys.OTLP_RESOURCE_ATTRIBUTES}) {
      if (config.hasPath(path) && config.getObject(path).isEmpty()) {
        leaves.put(path, config.getValue(path));
      }
    }
    int width = leaves.keySet().stream().mapToInt(String::length).max().orElse(0);
    out.println("# effective configuration; precedence: command line > environment > --config file > reference.conf");
    leaves.forEach((path, value) -> {
      String shown = path.startsWith(Keys.OTLP_HEADERS + ".")
          ? "\"<hidden>\""
          : value.render(ConfigRenderOptions.concise());
      String line = String.format("%-" + width + "s = %s", path, shown);
      out.println(String.format("%-" + (width + 40) + "s # %s", line, Settings.describe(value.origin())));
    });
    out.flush();
  }
}
