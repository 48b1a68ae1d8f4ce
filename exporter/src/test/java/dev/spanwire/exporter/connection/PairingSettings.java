package dev.spanwire.exporter.connection;

import dev.spanwire.exporter.trace.TraceSettings;
import java.time.Duration;

/**
 * Pipeline settings for tests of pairing and framing: the defaults, with exchanges leaving as soon
 * as they end. Their synthetic clocks never move, so a server on loopback whose client is not in
 * the script would otherwise wait in the linking window until shutdown; linking has tests of its
 * own (LinkingTest).
 */
public final class PairingSettings {
  private PairingSettings() {}

  public static PipelineSettings immediate() {
    return PipelineSettings.defaults().withTraces(TraceSettings.defaults().withLinkingWindow(Duration.ZERO));
  }
}
