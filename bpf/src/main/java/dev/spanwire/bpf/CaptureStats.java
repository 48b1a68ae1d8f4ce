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
 * @param stashFull syscalls whose arguments found no room in the kernel (their bytes unseen,
 *     the connection's next event flagged)
 * @param staleConnections kernel entries found to name a socket that had gone without a close()
 *     the capture saw (dup2 onto the fd, close-on-exec, close_range, io_uring)
 * @param tlsBytes ciphertext bytes of connections whose plaintext was seen (counted, not sent)
 * @param sizeOnly socket capture: data moved by calls with no buffer to read (sendfile, splice,
 *     recvmmsg, io_uring, kernel threads), sent as its length only
 * @param tlsCalls TLS library read and write calls that moved plaintext (uprobe hits)
 * @param tlsUnattributed TLS library calls whose connection was not found (their plaintext dropped)
 * @param skippedBytes bytes the parser said it would skip (a body it frames by length), sent as
 *     their length only
 * @param pressureCut data events the kernel copied short (their first 512 bytes) while the ring
 *     buffer was more than half full: positions kept, the rest counted as not copied
 * @param http2DataUncopied HTTP/2 DATA payload bytes the kernel's frame walk sent as their length only
 * @param http2WalksLost directions of HTTP/2 connections whose frame walk lost the boundaries and
 *     stopped (their bytes copied as before)
 * @param catchUps times the reader fell a quarter of the ring buffer behind and ran at its
 *     catch-up nice value until it had caught up
 */
public record CaptureStats(
    long records,
    long eventsLost,
    long bytesLost,
    long connectionsUntracked,
    long malformed,
    long handlerFailures,
    long stashFull,
    long staleConnections,
    long tlsBytes,
    long sizeOnly,
    long skippedBytes,
    long tlsUnattributed,
    long tlsCalls,
    long pressureCut,
    long http2DataUncopied,
    long http2WalksLost,
    long catchUps) {}
