import com.sun.net.httpserver.HttpServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * An HTTP server on 127.0.0.1 whose handlers (a pool of 4 threads) hand the call to a backend,
 * GET /b<path>, to another pool and wait for it: the thread-pool handoff an eBPF tracer cannot
 * follow. Usage: java LinkingJavaFront.java BACKEND_PORT. Prints "port N" once listening.
 */
public class LinkingJavaFront {
  public static void main(String[] args) throws Exception {
    int backend = Integer.parseInt(args[0]);
    ExecutorService calls = Executors.newFixedThreadPool(4);
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
    server.setExecutor(Executors.newFixedThreadPool(4));
    server.createContext("/", exchange -> {
      String path = exchange.getRequestURI().getRawPath();
      Future<byte[]> answer = calls.submit(() -> {
        HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + backend + "/b" + path).toURL().openConnection();
        try (InputStream in = c.getInputStream()) {
          return in.readAllBytes();
        }
      });
      byte[] body;
      try {
        body = answer.get();
      } catch (Exception e) {
        body = e.toString().getBytes();
      }
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    server.start();
    System.out.println("port " + server.getAddress().getPort());
  }
}
