package dev.spanwire.exporter.exchange;

import dev.spanwire.bpf.Role;
import java.net.InetSocketAddress;

/**
 * A traced connection as the traced process sees it.
 *
 * @param id connection id, unique for one capture
 * @param local the traced process's end
 * @param remote the peer's end
 * @param role whether the traced process is the client or the server
 * @param process the traced process
 * @param tls whether its bytes came through a TLS library (plaintext seen)
 */
public record ConnectionInfo(
    long id, InetSocketAddress local, InetSocketAddress remote, Role role, ProcessInfo process, boolean tls) {

  /** A connection whose bytes are seen on its socket. */
  public ConnectionInfo(long id, InetSocketAddress local, InetSocketAddress remote, Role role, ProcessInfo process) {
    this(id, local, remote, role, process, false);
  }

  /** The client's end. */
  public InetSocketAddress client() {
    return role == Role.SERVER ? remote : local;
  }

  /** The server's end. */
  public InetSocketAddress server() {
    return role == Role.SERVER ? local : remote;
  }

  /** {@code https} when the bytes came through TLS (whatever the port), else {@code http}. */
  public String scheme() {
    return tls ? "https" : "http";
  }

  public ConnectionInfo withRole(Role newRole) {
    return new ConnectionInfo(id, local, remote, newRole, process, tls);
  }

  public ConnectionInfo withProcess(ProcessInfo newProcess) {
    return new ConnectionInfo(id, local, remote, role, newProcess, tls);
  }

  public ConnectionInfo withTls() {
    return new ConnectionInfo(id, local, remote, role, process, true);
  }
}
