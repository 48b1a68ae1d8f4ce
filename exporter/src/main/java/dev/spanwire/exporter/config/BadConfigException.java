package dev.spanwire.exporter.config;

/**
 * A setting that cannot be used: names the key, the value, where the value came from and what
 * was expected, in one line.
 */
public final class BadConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final String key;

  /**
   * @param message what is wrong: {@code = VALUE (from ORIGIN): expected ...} follows the key
   *     directly, anything else after a colon
   */
  public BadConfigException(String key, String message) {
    super(key + (message.startsWith("= ") ? " " : ": ") + message);
    this.key = key;
  }

  /** The configuration key ({@code spanwire.capture.pid}) or flag the problem is with. */
  public String key() {
    return key;
  }
}
