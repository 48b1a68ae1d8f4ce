package dev.spanwire.bpf;

/** A traced connection's fd was closed; totals are the stream lengths in each direction. */
public record ConnectionClosed(
    long connectionId, int pid, int tid, int fd, long timestampNanos, long bytesEgress, long bytesIngress)
    implements SocketEvent {}
