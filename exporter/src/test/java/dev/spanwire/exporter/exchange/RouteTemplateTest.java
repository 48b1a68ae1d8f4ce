package dev.spanwire.exporter.exchange;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * RouteTemplate's rules, one row each: the route label is only as bounded as these rules make it,
 * so every rule is pinned at its edge (the length where a segment starts and stops being a
 * placeholder, the segment count where the path is cut). Expectations are written out by hand.
 */
class RouteTemplateTest {
  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
      # target                                                   | template
      ""                                                         | /
      /                                                          | /
      *                                                          | *
      /users                                                     | /users
      /users/42                                                  | /users/{id}
      /users/42/orders/7                                         | /users/{id}/orders/{id}
      /users/0                                                   | /users/{id}
      /users/42?expand=all&token=x                               | /users/{id}
      /users/42#frag                                             | /users/{id}
      /users/42/                                                 | /users/{id}/
      //double                                                   | //double
      users/42                                                   | /users/{id}
      http://example.com:8080/users/42?x=1                       | /users/{id}
      https://example.com                                        | /
      https://example.com?x=1                                    | /
      /item/123e4567-e89b-12d3-a456-426614174000                 | /item/{uuid}
      /item/123E4567-E89B-12D3-A456-426614174000                 | /item/{uuid}
      /item/123e4567-e89b-12d3-a456-42661417400g                 | /item/{token}
      /blob/abcdef1                                              | /blob/abcdef1
      /blob/abcdef12                                             | /blob/{hex}
      /blob/ABCDEF12                                             | /blob/{hex}
      /blob/deadbeef                                             | /blob/deadbeef
      /blob/deadbeefcafe                                         | /blob/deadbeefcafe
      /t/abcdefghij123456789                                     | /t/abcdefghij123456789
      /t/abcdefghij1234567890                                    | /t/{token}
      /t/abcdefghijklmnopqrstuvwxyz                              | /t/abcdefghijklmnopqrstuvwxyz
      /t/ghijklmnop-qrstuvwx-1                                   | /t/{token}
      /v1/api                                                    | /v1/api
      /r2d2                                                      | /r2d2
      /1/2/3/4/5/6/7/8                                           | /{id}/{id}/{id}/{id}/{id}/{id}/{id}/{id}
      /1/2/3/4/5/6/7/8/9                                         | /{id}/{id}/{id}/{id}/{id}/{id}/{id}/{id}/...
      /a/b/c/d/e/f/g/h/i/j/k/l                                   | /a/b/c/d/e/f/g/h/...
      /café/42                                                   | /café/{id}
      /%E2%82%AC/42                                              | /%E2%82%AC/{id}
      """)
  void templateOf(String target, String template) {
    assertThat(RouteTemplate.of(target)).isEqualTo(template);
  }

  /**
   * Remembered templates: asked again (equal targets, other strings) and after targets that share
   * a slot took it in turn, each target still gets its own template; a target too long to be
   * remembered too.
   */
  @org.junit.jupiter.api.Test
  void rememberedTemplatesBelongToTheirTargets() {
    // "Aa" and "BB" hash alike, so these two targets share a slot whatever the table's size
    String first = "/Aa/42";
    String second = "/BB/42";
    assertThat(first.hashCode()).isEqualTo(second.hashCode());
    for (int round = 0; round < 3; round++) {
      assertThat(RouteTemplate.of(new String(first))).isEqualTo("/Aa/{id}");
      assertThat(RouteTemplate.of(new String(second))).isEqualTo("/BB/{id}");
      assertThat(RouteTemplate.of(new String(second))).isEqualTo("/BB/{id}");
    }
    String longTarget = "/a".repeat(150) + "/7";
    assertThat(longTarget.length()).isGreaterThan(RouteTemplate.MAX_REMEMBERED_TARGET);
    assertThat(RouteTemplate.of(longTarget)).isEqualTo("/a/a/a/a/a/a/a/a/...");
    assertThat(RouteTemplate.of(longTarget)).isEqualTo("/a/a/a/a/a/a/a/a/...");
  }

  @ParameterizedTest(name = "{0}: path {1}, query {2}")
  @CsvSource(delimiter = '|', nullValues = "null", textBlock = """
      /a?b=1                 | /a  | b=1
      /a?b=1#c               | /a  | b=1
      /a#c?d                 | /a  | null
      /a                     | /a  | null
      /a?                    | /a  | ''
      http://h/x?y           | /x  | y
      """)
  void pathAndQueryOf(String target, String path, String query) {
    assertThat(RouteTemplate.pathOf(target)).isEqualTo(path);
    assertThat(RouteTemplate.queryOf(target)).isEqualTo(query);
  }
}
