import java.io.ByteArrayOutputStream;
import java.net.HttpURLConnection;
import java.net.URI;

/** A plain HttpURLConnection client, run as its own process: GET the URL, print the body. */
public class HttpUrlClient {
  public static void main(String[] args) throws Exception {
    HttpURLConnection connection = (HttpURLConnection) URI.create(args[0]).toURL().openConnection();
    connection.setRequestProperty("Connection", "close");
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    try (var in = connection.getInputStream()) {
      in.transferTo(body);
    }
    System.out.write(body.toByteArray());
    System.out.flush();
    System.exit(connection.getResponseCode() == 200 ? 0 : 1);
  }
}
