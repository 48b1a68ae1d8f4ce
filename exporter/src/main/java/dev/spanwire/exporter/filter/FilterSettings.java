package dev.spanwire.exporter.filter;

import java.time.Duration;

/**
 * What of each exchange reaches the table, the events and the spans (the metrics see every
 * exchange whole).
 *
 * @param captureRequest request headers, body and the http-req event are reported
 * @param captureResponse response headers, body and the http-resp event are reported
 * @param minLatency exchanges faster than this are not reported
 * @param redaction what secrets are replaced
 * @param watch AppScope's HTTP event watch, or null when HTTP events are off
 */
public record FilterSettings(
    boolean captureRequest, boolean captureResponse, Duration minLatency, Redaction redaction, WatchRule watch) {

  public static FilterSettings defaults() {
    return new FilterSettings(true, true, Duration.ZERO, Redaction.defaults(), WatchRule.defaults());
  }
}
