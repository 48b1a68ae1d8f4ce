package dev.spanwire.bpf;

import java.net.InetSocketAddress;

/**
 * The kernel's entry for a traced connection, read back from its connection table.
 *
 * @param id the connection id its events carry
 * @param local the traced process's end
 * @param remote the peer's end
 * @param role client (connect), server (accept), or unknown
 * @param bytesEgress stream length written so far
 * @param bytesIngress stream length read so far
 * @param tlsBytesEgress TLS plaintext written so far (0 without TLS)
 * @param tlsBytesIngress TLS plaintext read so far
 * @param ino the socket's inode number
 * @param joinedMidStream found at its first HTTP-looking data rather than at connect or accept
 */
public record KernelConnection(
    long id,
    InetSocketAddress local,
    InetSocketAddress remote,
    Role role,
    long bytesEgress,
    long bytesIngress,
    long tlsBytesEgress,
    long tlsBytesIngress,
    long ino,
    boolean joinedMidStream) {}
