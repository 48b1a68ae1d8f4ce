package dev.spanwire.bpf;

/**
 * Counters of a running capture.
 *
 * @param records ring buffer records read
 * @param eventsLost records the kernel could not reserve in the ring buffer (lost)
 * @param bytesLost payload bytes of the lost data records
 * @param connectionsUntracked sockets the kernel's connection table had no room for
 * @param malformed records that did not decode
 * @param handlerFailures records whose consumer threw
 */
public record CaptureStats(
    long records,
    long eventsLost,
    long bytesLost,
    long connectionsUntracked,
    long malformed,
    long handlerFailures) {}
