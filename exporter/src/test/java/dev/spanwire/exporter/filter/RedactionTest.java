package dev.spanwire.exporter.filter;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RedactionTest {
  private final Redaction redaction = Redaction.defaults();

  @Test
  void credentialLikeQueryValuesAreReplaced() {
    assertThat(redaction.target("/login?user=ann&password=hunter2&next=/home"))
        .isEqualTo("/login?user=ann&password=REDACTED&next=/home");
    assertThat(redaction.target("/cb?access_token=abc&API_KEY=k&sessionId=s&q=token#frag"))
        .isEqualTo("/cb?access_token=REDACTED&API_KEY=REDACTED&sessionId=REDACTED&q=token#frag");
    assertThat(redaction.target("/x?authorization=1&clientSecret=2")).isEqualTo("/x?authorization=REDACTED&clientSecret=REDACTED");
    assertThat(redaction.target("/search?q=keyboards")).isEqualTo("/search?q=keyboards");
    assertThat(redaction.target("/flag?token")).as("a parameter without value has nothing to hide").isEqualTo("/flag?token");
  }

  @Test
  void urlCredentialsLoseTheirPassword() {
    assertThat(redaction.target("http://ann:hunter2@proxy.test:3128/path?x=1")).isEqualTo("http://ann:REDACTED@proxy.test:3128/path?x=1");
    assertThat(redaction.target("http://ann@proxy.test/")).isEqualTo("http://ann@proxy.test/");
    assertThat(redaction.target("/path/with@sign")).isEqualTo("/path/with@sign");
  }

  @Test
  void unchangedTargetsAreTheSameString() {
    String target = "/plain/path?page=2";
    assertThat(redaction.target(target)).isSameAs(target);
  }

  @Test
  void sensitiveHeaderValuesAreReplacedWhateverTheirCase() {
    assertThat(redaction.headerLine("Authorization: Bearer abc.def")).isEqualTo("Authorization: REDACTED");
    assertThat(redaction.headerLine("cookie: a=1; b=2")).isEqualTo("cookie: REDACTED");
    assertThat(redaction.headerLine("Set-Cookie: id=1")).isEqualTo("Set-Cookie: REDACTED");
    assertThat(redaction.headerLine("X-Request-Id: 42")).isEqualTo("X-Request-Id: 42");
  }

  @Test
  void commandLinesLoseHeaderValuesCredentialArgumentsAndUrlSecrets() {
    assertThat(redaction.commandLine("curl\0-H\0Authorization: Bearer s3cret\0http://h/x?token=abc&q=1\0", '\0'))
        .isEqualTo("curl -H Authorization: REDACTED http://h/x?token=REDACTED&q=1");
    assertThat(redaction.commandLine("app --db-password=hunter2 --port=8080 API_KEY=k mode=fast", ' '))
        .isEqualTo("app --db-password=REDACTED --port=8080 API_KEY=REDACTED mode=fast");
    assertThat(redaction.commandLine("wget http://ann:pw@host/file", ' ')).isEqualTo("wget http://ann:REDACTED@host/file");
    assertThat(redaction.commandLine("nginx -g daemon off;", ' ')).isEqualTo("nginx -g daemon off;");
  }

  @Test
  void listsAndReplacementAreConfigurable() {
    Redaction custom = new Redaction(Set.of("X-Api-Key"), List.of("pin"), "***");
    assertThat(custom.headerLine("x-api-key: k")).isEqualTo("x-api-key: ***");
    assertThat(custom.headerLine("Authorization: Basic x")).isEqualTo("Authorization: Basic x");
    assertThat(custom.target("/a?pin=1234&token=t")).isEqualTo("/a?pin=***&token=t");
  }

  @Test
  void parameterNamesAreMatchedAsServersReadThem() {
    assertThat(redaction.target("/a?%74oken=abc&q=1")).isEqualTo("/a?%74oken=REDACTED&q=1");
    assertThat(redaction.target("/a?tok%65n=abc")).isEqualTo("/a?tok%65n=REDACTED");
    assertThat(redaction.target("/a?x=1;token=abc;y=2")).isEqualTo("/a?x=1;token=REDACTED;y=2");
    assertThat(redaction.target("/a?api+key=abc")).isEqualTo("/a?api+key=REDACTED");
    assertThat(redaction.target("/shop;jsessionid=0AB12CD/cart?item=3")).isEqualTo("/shop;jsessionid=REDACTED/cart?item=3");
    assertThat(redaction.target("/app;v=2;jsessionid=0AB12CD")).isEqualTo("/app;v=2;jsessionid=REDACTED");
    assertThat(redaction.target("/a?%zz=1")).as("a malformed escape stays as it is").isEqualTo("/a?%zz=1");
  }

  @Test
  void commandLineSecretsInEveryShapeAreReplaced() {
    assertThat(redaction.commandLine("curl\0-u\0alice:s3cret\0http://h/\0", '\0')).isEqualTo("curl -u alice:REDACTED http://h/");
    assertThat(redaction.commandLine("curl\0--user\0alice:s3cret\0http://h/", '\0')).isEqualTo("curl --user alice:REDACTED http://h/");
    assertThat(redaction.commandLine("curl\0-ualice:s3cret\0http://h/", '\0')).isEqualTo("curl -ualice:REDACTED http://h/");
    assertThat(redaction.commandLine("app\0--password\0hunter2\0--port\08080", '\0')).isEqualTo("app --password REDACTED --port 8080");
    assertThat(redaction.commandLine("app\0--api-key\0k-123\0serve", '\0')).isEqualTo("app --api-key REDACTED serve");
    assertThat(redaction.commandLine("app\0-password\0hunter2\0-v", '\0')).isEqualTo("app -password REDACTED -v");
    assertThat(redaction.commandLine("curl\0-HAuthorization: Bearer s3cret\0http://h/", '\0')).isEqualTo("curl -HAuthorization: REDACTED http://h/");
    assertThat(redaction.commandLine("curl\0--header=Cookie: id=s3cret\0http://h/", '\0')).isEqualTo("curl --header=Cookie: REDACTED http://h/");
    assertThat(redaction.commandLine("app\0--db-url=postgres://u:pw@db:5432/x", '\0')).isEqualTo("app --db-url=postgres://u:REDACTED@db:5432/x");
    assertThat(redaction.commandLine("app\0--callback=https://h/cb?access_token=t", '\0')).isEqualTo("app --callback=https://h/cb?access_token=REDACTED");
    assertThat(redaction.commandLine("python3\0-u\0server.py\0--port\08080", '\0')).isEqualTo("python3 -u server.py --port 8080");
  }

  @Test
  void capturedBodiesLoseCredentialValues() {
    assertThat(redaction.body("user=ann&password=hunter2&remember=1")).isEqualTo("user=ann&password=REDACTED&remember=1");
    assertThat(redaction.body("{\"user\": \"ann\", \"access_token\": \"eyJhbGciOi\", \"n\": 1}"))
        .isEqualTo("{\"user\": \"ann\", \"access_token\": \"REDACTED\", \"n\": 1}");
    assertThat(redaction.body("{\"client_secret\":12345,\"nested\":{\"apiKey\":\"k\\\"q\"}}"))
        .isEqualTo("{\"client_secret\":\"REDACTED\",\"nested\":{\"apiKey\":\"REDACTED\"}}");
    assertThat(redaction.body("{\"password\": \"hunt")).as("a body cut short inside the secret").isEqualTo("{\"password\": \"REDACTED\"");
    String plain = "just some text with password in it";
    assertThat(redaction.body(plain)).isSameAs(plain);
  }
}
