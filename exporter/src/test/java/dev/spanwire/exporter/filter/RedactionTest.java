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
}
