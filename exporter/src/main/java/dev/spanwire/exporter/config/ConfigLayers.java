package dev.spanwire.exporter.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The configuration's layers and their order: command-line flags over environment variables over
 * the {@code --config} file over {@code reference.conf}. Every value keeps the origin it came
 * from ({@code environment variable SPANWIRE_PORTS}, {@code command line --ports}), which
 * {@code spanwire config} and error messages show.
 */
public final class ConfigLayers {
  /** Everything Spanwire reads lives under this path. */
  public static final String ROOT = "spanwire";

  private ConfigLayers() {}

  /**
   * One value set from outside the files: a path, the text or value given, and where it came
   * from. Text is converted to the type the path holds in reference.conf (lists from commas).
   */
  public record Override(String path, Object value, String origin) {}

  /** Spanwire's own reference.conf (not those of the libraries on the class path), parsed once. */
  public static Config reference() {
    return Reference.CONFIG;
  }

  private static final class Reference {
    static final Config CONFIG = ConfigFactory.parseResources(ConfigLayers.class.getClassLoader(), "reference.conf",
        ConfigParseOptions.defaults().setAllowMissing(false));
  }

  /** A HOCON (or JSON, or properties) file the user gave with {@code --config}. */
  public static Config file(Path path) {
    if (!Files.isRegularFile(path)) {
      throw new BadConfigException("--config", "no such file: " + path);
    }
    try {
      return ConfigFactory.parseFile(path.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
    } catch (ConfigException e) {
      throw new BadConfigException("--config", "cannot parse " + path + ": " + e.getMessage());
    }
  }

  /**
   * The effective configuration: {@code file} (or nothing) over reference.conf, then the
   * environment's overrides, then the command line's, resolved.
   */
  public static Config load(Config file, List<Override> environment, List<Override> flags) {
    Config merged = (file == null ? ConfigFactory.empty() : file).withFallback(reference());
    try {
      merged = merged.resolve();
    } catch (ConfigException e) {
      throw new BadConfigException("--config", e.getMessage());
    }
    for (Override o : environment) {
      merged = apply(merged, o);
    }
    for (Override o : flags) {
      merged = apply(merged, o);
    }
    return merged;
  }

  /** {@code merged} with one override converted to the path's reference type and set. */
  static Config apply(Config merged, Override o) {
    Object value = o.value() instanceof String text ? convert(merged, o.path(), text.strip()) : o.value();
    return merged.withValue(o.path(), ConfigValueFactory.fromAnyRef(value, o.origin()));
  }

  /**
   * Text as the reference type of {@code path}: a list from comma-separated items (the word
   * {@code any} stays a word where a list of ports may be one), anything else as it is (Typesafe
   * Config reads numbers, booleans, durations and sizes from strings).
   */
  private static Object convert(Config merged, String path, String text) {
    if (!merged.hasPath(path) || merged.getValue(path).valueType() != ConfigValueType.LIST) {
      return text;
    }
    if (path.equals(Keys.PORTS) && text.equalsIgnoreCase("any")) {
      return "any";
    }
    if (path.equals(Keys.COLUMNS) && (text.startsWith("+") || text.startsWith("-"))) {
      return relativeColumns(merged.getValue(path), text);
    }
    return text.isEmpty() ? List.of() : Arrays.stream(text.split(",")).map(String::strip).toList();
  }

  /** {@code +name} and {@code -name} items applied to the columns already configured. */
  private static List<String> relativeColumns(ConfigValue current, String spec) {
    List<String> columns = new ArrayList<>();
    for (Object o : (List<?>) current.unwrapped()) {
      columns.add(String.valueOf(o));
    }
    for (String item : spec.split(",")) {
      String name = item.strip();
      if (name.startsWith("+") && !columns.contains(name.substring(1))) {
        columns.add(name.substring(1));
      } else if (name.startsWith("-")) {
        columns.remove(name.substring(1));
      } else if (!name.startsWith("+")) {
        throw new BadConfigException(Keys.COLUMNS, "'" + spec + "' mixes a list with +/- items; give one or the other");
      }
    }
    return columns;
  }
}
