package dev.spanwire.exporter.pipeline;

/**
 * Counters of the pipeline, written by its thread only. Other threads read the last
 * {@link Snapshot}, published after each ring buffer batch.
 */
public final class PipelineStats {
  long events;
  long bytesCaptured;
  long unknownConnection;
  long reordered;
  long duplicates;
  long gaps;
  long gapBytes;
  long skippedBytes;
  long parseErrors;
  long resyncs;
  long requests;
  long responses;
  long exchanges;
  long serverExchanges;
  long clientExchanges;
  long unanswered;
  long unpaired;
  long unpairedRequests;
  long upgrades;
  long evictedConnections;
  long droppedPipelined;
  long ignoredConnections;
  long detected;
  long reestablished;
  long processExits;

  private volatile Snapshot snapshot = new Snapshot(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

  /**
   * @param events data, open and close events handled
   * @param bytesCaptured payload bytes handled
   * @param unknownConnection data or close events for connections neither open nor in the kernel's
   *     table (dropped)
   * @param reordered events that arrived ahead of their position
   * @param duplicates events (or parts) whose bytes had been seen
   * @param gaps ranges of a stream no event covered (events lost)
   * @param gapBytes bytes in those ranges
   * @param skippedBytes bytes moved but not captured (beyond the capture size)
   * @param parseErrors malformed HTTP/1 messages (dropped)
   * @param resyncs times a stream was resynchronised after an error or a gap
   * @param requests requests parsed
   * @param responses final responses parsed
   * @param exchanges exchanges reported with a response
   * @param serverExchanges those seen by the server side
   * @param clientExchanges those seen by the client side
   * @param unanswered requests reported without a response (connection closed)
   * @param unpaired messages dropped because loss made their pair unknowable
   * @param unpairedRequests the requests among them
   * @param upgrades connections that left HTTP/1 (101, CONNECT, HTTP/2 preface)
   * @param evictedConnections connections dropped for idleness or the table bound
   * @param droppedPipelined requests dropped beyond the pipelining bound
   * @param ignoredConnections connections left out by the command filter or protocol detection
   * @param detected connections recognised as HTTP by the detection regex
   * @param reestablished connections picked up again from the kernel's table after their open
   *     event was lost or the pipeline had dropped them
   * @param processExits traced processes whose exit closed their connections
   * @param connections connections tracked now
   */
  public record Snapshot(
      long events,
      long bytesCaptured,
      long unknownConnection,
      long reordered,
      long duplicates,
      long gaps,
      long gapBytes,
      long skippedBytes,
      long parseErrors,
      long resyncs,
      long requests,
      long responses,
      long exchanges,
      long serverExchanges,
      long clientExchanges,
      long unanswered,
      long unpaired,
      long unpairedRequests,
      long upgrades,
      long evictedConnections,
      long droppedPipelined,
      long ignoredConnections,
      long detected,
      long reestablished,
      long processExits,
      long connections) {}

  /** The counters as of the end of the last batch; any thread. */
  public Snapshot snapshot() {
    return snapshot;
  }

  void publish(int connections) {
    snapshot =
        new Snapshot(
            events, bytesCaptured, unknownConnection, reordered, duplicates, gaps, gapBytes,
            skippedBytes, parseErrors, resyncs, requests, responses, exchanges, serverExchanges,
            clientExchanges, unanswered, unpaired, unpairedRequests,
            upgrades, evictedConnections, droppedPipelined, ignoredConnections, detected, reestablished, processExits,
            connections);
  }
}
