package dev.spanwire.bpf.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Real servers and clients on loopback for kernel tests: python http.server, nginx, curl and any
 * other command. A missing tool skips the test with the reason, or fails it under CI=true.
 */
public final class Peers {
  /**
   * Blocking reads of process output get threads of their own: the common pool has one thread on
   * a two-core machine, and one read waiting on a quiet process would starve every other.
   */
  private static final java.util.concurrent.ExecutorService READERS =
      java.util.concurrent.Executors.newCachedThreadPool(
          Thread.ofPlatform().name("peers-reader-", 0).daemon().factory());

  private Peers() {}

  /** A server process listening on {@code host:port}; closing stops it. */
  public record Server(Process process, String host, int port) implements AutoCloseable {
    public long pid() {
      return process.pid();
    }

    public String url(String path) {
      String h = host.contains(":") ? "[" + host + "]" : host;
      return "http://" + h + ":" + port + path;
    }

    public String httpsUrl(String path) {
      String h = host.contains(":") ? "[" + host + "]" : host;
      return "https://" + h + ":" + port + path;
    }

    @Override
    public void close() {
      process.destroy();
      try {
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** A finished command. */
  public record Completed(long pid, int exitCode, byte[] stdout, String stderr) {
    public String out() {
      return new String(stdout, StandardCharsets.UTF_8);
    }

    public Completed assertSuccess() {
      if (exitCode != 0) {
        throw new AssertionError("exit " + exitCode + ": " + stderr);
      }
      return this;
    }
  }

  /** Fails or skips (see {@link KernelCondition}) unless {@code tool} is on the PATH. */
  public static void require(String tool) {
    if (tool.startsWith("/") && Files.isExecutable(Path.of(tool))) {
      return;
    }
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
      if (Files.isExecutable(Path.of(dir, tool))) {
        return;
      }
    }
    for (String dir : List.of("/usr/sbin", "/sbin")) {
      if (Files.isExecutable(Path.of(dir, tool))) {
        return;
      }
    }
    String reason = tool + " is not installed (scripts/test.sh installs it)";
    if (Ci.on()) {
      throw new AssertionError(reason);
    }
    org.junit.jupiter.api.Assumptions.abort(reason);
  }

  /**
   * The python interpreter: Debian's /usr/bin/python3, which scripts/test.sh installs, before
   * whatever PATH finds first (a version manager's shim, say), so the peers run on a known one.
   */
  public static String python() {
    return java.nio.file.Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
  }

  /** {@code python3 -m http.server} serving {@code directory} on an ephemeral port of {@code host}. */
  public static Server pythonHttpServer(Path directory, String host) {
    return pythonHttpServer(directory, host, java.util.Map.of());
  }

  /** The same with extra environment variables (e.g. OTEL_SERVICE_NAME). */
  public static Server pythonHttpServer(Path directory, String host, java.util.Map<String, String> env) {
    require(python());
    Process process =
        startServer(
            List.of(python(), "-u", "-m", "http.server", "0", "--bind", host, "--directory", directory.toString()), env);
    // "Serving HTTP on 127.0.0.1 port 40123 (http://127.0.0.1:40123/) ..."
    int port = awaitLine(process, Pattern.compile("port (\\d+)"), Duration.ofSeconds(10));
    awaitListening(host, port);
    return new Server(process, host, port);
  }

  /**
   * A python script that serves HTTP on 127.0.0.1 and prints {@code port N} once listening, with
   * extra environment variables (e.g. OTEL_SERVICE_NAME).
   */
  public static Server pythonScript(Path script, java.util.Map<String, String> env) {
    require(python());
    Process process = startServer(List.of(python(), "-u", script.toString()), env);
    int port = awaitLine(process, Pattern.compile("port (\\d+)"), Duration.ofSeconds(10));
    awaitListening("127.0.0.1", port);
    return new Server(process, "127.0.0.1", port);
  }

  /**
   * Any server command that prints {@code port N} once listening on 127.0.0.1 (a node script, a
   * python script with arguments), with extra environment variables.
   */
  public static Server server(List<String> command, java.util.Map<String, String> env) {
    require(command.getFirst());
    Process process = startServer(command, env);
    int port = awaitLine(process, Pattern.compile("port (\\d+)"), Duration.ofSeconds(10));
    awaitListening("127.0.0.1", port);
    return new Server(process, "127.0.0.1", port);
  }

  /**
   * nginx in the foreground, one process, serving {@code root} on {@code 127.0.0.1}; {@code
   * serverExtra} is added inside the server block.
   */
  public static Server nginx(Path root, Path workDir, boolean sendfile, String serverExtra) {
    return nginx(root, workDir, sendfile, serverExtra, null);
  }

  /**
   * A certificate and key for 127.0.0.1 and localhost, made by openssl in {@code dir}:
   * {@code cert.pem} and {@code key.pem}.
   */
  public static Path selfSignedCertificate(Path dir) {
    require("openssl");
    run(Duration.ofSeconds(60), "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
        "-keyout", dir.resolve("key.pem").toString(), "-out", dir.resolve("cert.pem").toString(),
        "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")
        .assertSuccess();
    return dir;
  }

  /** nginx as above, speaking TLS with the certificate in {@code certificates} when it is not null. */
  public static Server nginx(Path root, Path workDir, boolean sendfile, String serverExtra, Path certificates) {
    return nginx(root, workDir, sendfile, serverExtra, certificates, false);
  }

  /** nginx as above, speaking HTTP/2 when {@code http2} (h2c with prior knowledge, or h2 over TLS by ALPN). */
  public static Server nginx(Path root, Path workDir, boolean sendfile, String serverExtra, Path certificates, boolean http2) {
    return nginx(root, workDir, sendfile, serverExtra, certificates, http2, "");
  }

  /** nginx as above, with {@code httpExtra} added to the http block (an upstream, say). */
  public static Server nginx(
      Path root, Path workDir, boolean sendfile, String serverExtra, Path certificates, boolean http2, String httpExtra) {
    require("nginx");
    return startListening(port -> nginxCommand(root, workDir, sendfile, serverExtra, certificates, http2, httpExtra, port));
  }

  private static List<String> nginxCommand(
      Path root, Path workDir, boolean sendfile, String serverExtra, Path certificates, boolean http2, String httpExtra,
      int port) {
    String tls = (http2 ? " http2" : "") + (certificates == null ? "" : " ssl;\n    ssl_certificate " + certificates.resolve("cert.pem")
        + ";\n    ssl_certificate_key " + certificates.resolve("key.pem"));
    String conf =
        """
        daemon off;
        master_process off;
        worker_processes 1;
        error_log %1$s/error.log warn;
        pid %1$s/nginx.pid;
        events { worker_connections 1024; }
        http {
          access_log off;
          sendfile %2$s;
          keepalive_requests 100000;
          client_body_temp_path %1$s/body;
          proxy_temp_path %1$s/proxy;
          fastcgi_temp_path %1$s/fastcgi;
          uwsgi_temp_path %1$s/uwsgi;
          scgi_temp_path %1$s/scgi;
          types { text/html html; text/plain txt; application/octet-stream bin; }
          %7$s
          server {
            listen 127.0.0.1:%3$d%6$s;
            root %4$s;
            %5$s
          }
        }
        """
            .formatted(workDir, sendfile ? "on" : "off", port, root, serverExtra, tls, httpExtra);
    try {
      Files.writeString(workDir.resolve("nginx.conf"), conf);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return List.of(nginxBinary(), "-p", workDir.toString(), "-c", workDir.resolve("nginx.conf").toString());
  }

  /**
   * Starts a server (the command for a port) on a port found free, and again on another one when
   * it exits before it listens: another process took the port between the check and the bind. A
   * server that accepts while its own process is alive is ours (these servers exit when a bind
   * fails).
   */
  public static Server startListening(java.util.function.IntFunction<List<String>> command) {
    for (int attempt = 1; ; attempt++) {
      int port = freePort();
      Process process = startServer(command.apply(port));
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (process.isAlive() && System.nanoTime() < deadline) {
        try (Socket socket = new Socket()) {
          socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
          if (process.isAlive()) {
            return new Server(process, "127.0.0.1", port);
          }
        } catch (IOException e) {
          Thread.onSpinWait();
        }
      }
      process.destroyForcibly();
      if (attempt == 5) {
        throw new AssertionError("no listener after 5 ports: " + command.apply(port));
      }
    }
  }

  private static String nginxBinary() {
    return Files.isExecutable(Path.of("/usr/sbin/nginx")) ? "/usr/sbin/nginx" : "nginx";
  }

  /** Runs a command to completion within {@code timeout}; stdout is kept as bytes. */
  public static Completed run(Duration timeout, String... command) {
    return run(timeout, java.util.Map.of(), command);
  }

  /** The same with extra environment variables. */
  public static Completed run(Duration timeout, java.util.Map<String, String> env, String... command) {
    require(command[0]);
    Process process;
    try {
      ProcessBuilder builder = new ProcessBuilder(command);
      builder.environment().putAll(env);
      process = builder.start();
    } catch (IOException e) {
      throw new UncheckedIOException("start " + List.of(command), e);
    }
    CompletableFuture<byte[]> stdout = CompletableFuture.supplyAsync(() -> readAll(process), READERS);
    CompletableFuture<String> stderr =
        CompletableFuture.supplyAsync(() -> new String(readAllErr(process), StandardCharsets.UTF_8), READERS);
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        throw new AssertionError("timed out after " + timeout + ": " + String.join(" ", command));
      }
      return new Completed(process.pid(), process.exitValue(), stdout.join(), stderr.join());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Starts a command with stdout and stderr as pipes. */
  public static Process start(List<String> command) {
    try {
      return new ProcessBuilder(command).start();
    } catch (IOException e) {
      throw new UncheckedIOException("start " + command, e);
    }
  }

  /** Starts a server; its stderr (request logs) is discarded so the pipe never blocks it. */
  public static Process startServer(List<String> command) {
    return startServer(command, java.util.Map.of());
  }

  /** The same with extra environment variables. */
  public static Process startServer(List<String> command, java.util.Map<String, String> env) {
    try {
      ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD);
      builder.environment().putAll(env);
      return builder.start();
    } catch (IOException e) {
      throw new UncheckedIOException("start " + command, e);
    }
  }

  /** A port that was free a moment ago, for servers that cannot report an ephemeral one. */
  public static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Waits until something accepts connections on host:port. */
  public static void awaitListening(String host, int port) {
    Await.until(
        host + ":" + port + " to accept connections",
        Duration.ofSeconds(10),
        () -> {
          try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 200);
            return true;
          } catch (IOException e) {
            return false;
          }
        });
  }

  private static int awaitLine(Process process, Pattern pattern, Duration timeout) {
    List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    long started = System.nanoTime();
    long[] readerStarted = {0};
    CompletableFuture<Integer> port =
        CompletableFuture.supplyAsync(
            () -> {
              readerStarted[0] = System.nanoTime();
              // not closed here: the drain thread goes on reading it
              BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
              try {
                String line;
                while ((line = reader.readLine()) != null) {
                  seen.add(line);
                  Matcher m = pattern.matcher(line);
                  if (m.find()) {
                    drainInBackground(reader);
                    return Integer.parseInt(m.group(1));
                  }
                }
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
              throw new AssertionError("process ended without printing " + pattern + ": " + seen);
            },
            READERS);
    try {
      return port.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      boolean alive = process.isAlive();
      process.destroyForcibly();
      throw new AssertionError("no line matching " + pattern + " within " + timeout + " (process " + process.pid()
          + (alive ? " alive" : " ended") + ", reader started after "
          + (readerStarted[0] == 0 ? "never" : (readerStarted[0] - started) / 1_000_000 + " ms") + ", lines " + seen + ")", e);
    }
  }

  private static void drainInBackground(BufferedReader reader) {
    Thread.ofPlatform()
        .daemon()
        .start(
            () -> {
              try {
                while (reader.readLine() != null) {
                  // keep the pipe from filling up
                }
              } catch (IOException ignored) {
                // process ended
              }
            });
  }

  private static byte[] readAll(Process process) {
    try {
      return process.getInputStream().readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] readAllErr(Process process) {
    try {
      return process.getErrorStream().readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
