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
 */
public record ConnectionInfo(
    long id, InetSocketAddress local, InetSocketAddress remote, Role role, ProcessInfo process) {

  /** The client's end. */
  public InetSocketAddress client() {
    return role == Role.SERVER ? remote : local;
  }

  /** The server's end. */
  public InetSocketAddress server() {
    return role == Role.SERVER ? local : remote;
  }

  /**
   * {@code https} on the usual TLS ports (443, 8443), else {@code http}: the bytes of a TLS port
   * are only ever seen decrypted.
   */
  public String scheme() {
    int port = server().getPort();
    return port == 443 || port == 8443 ? "https" : "http";
  }

  public ConnectionInfo withRole(Role newRole) {
    return new ConnectionInfo(id, local, remote, newRole, process);
  }

  public ConnectionInfo withProcess(ProcessInfo newProcess) {
    return new ConnectionInfo(id, local, remote, role, newProcess);
  }
}
