package dev.spanwire.exporter.output;

import java.util.Locale;

/** What the agent writes to stdout. */
public enum Output {
  /** The live table, one line per exchange. */
  TABLE,
  /** AppScope-shaped JSON events, one per line. */
  JSON,
  /** Nothing (export only). */
  NONE,
  /** One line per captured syscall, to see the capture itself. */
  RAW;

  public static Output of(String name) {
    try {
      return valueOf(name.strip().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown output '" + name + "', expected table, json, none or raw");
    }
  }

  /** The table on a terminal, JSON when stdout is a pipe or a file. */
  public static Output forStdout() {
    java.io.Console console = System.console();
    return console != null && console.isTerminal() ? TABLE : JSON;
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
