package dev.spanwire.exporter.output;

import dev.spanwire.bpf.KernelClock;
import dev.spanwire.exporter.exchange.ExchangeSink;
import dev.spanwire.exporter.exchange.Exchange;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.List;

/**
 * {@code --output table}: one aligned line per exchange, the trace_http gadget's columns. Values
 * wider than their column are cut with {@code ~}, but for addresses, whose column widens; the last
 * column is never cut. Control characters in any value are shown escaped.
 */
public final class TableSink implements ExchangeSink {
  private final Writer out;
  private final List<Column> columns;
  /** Current widths: uncuttable columns grow to their widest value so far. */
  private final int[] widths;
  private final KernelClock clock;
  private final StringBuilder line = new StringBuilder(256);
  private boolean headerWritten;

  public TableSink(Writer out, List<Column> columns, KernelClock clock) {
    if (columns.isEmpty()) {
      throw new IllegalArgumentException("the table needs at least one column");
    }
    this.out = out;
    this.columns = List.copyOf(columns);
    this.widths = columns.stream().mapToInt(c -> c.width).toArray();
    this.clock = clock;
  }

  /** Writes the header line now (it is written before the first row otherwise). */
  public void writeHeader() {
    if (headerWritten) {
      return;
    }
    headerWritten = true;
    line.setLength(0);
    for (int i = 0; i < columns.size(); i++) {
      cell(columns.get(i).header(), i);
    }
    write();
  }

  @Override
  public void onExchange(Exchange exchange) {
    writeHeader();
    line.setLength(0);
    for (int i = 0; i < columns.size(); i++) {
      String value = columns.get(i).value(exchange, clock);
      // what traced processes and their peers chose must not drive the terminal
      cell(value == null ? "-" : Escaping.terminal(value), i);
    }
    write();
  }

  @Override
  public void onOpaque(dev.spanwire.exporter.exchange.OpaqueConnection connection) {
    writeHeader();
    line.setLength(0);
    for (int i = 0; i < columns.size(); i++) {
      cell(Escaping.terminal(columns.get(i).value(connection, clock)), i);
    }
    write();
  }

  private void cell(String value, int column) {
    if (column == columns.size() - 1) {
      line.append(value);
      return;
    }
    if (value.length() > widths[column] && !columns.get(column).cuttable) {
      widths[column] = value.length();
    }
    int width = widths[column];
    if (value.length() > width) {
      line.append(value, 0, width - 1).append('~');
    } else {
      line.append(value);
      line.repeat(' ', width - value.length());
    }
    line.append(' ');
  }

  private void write() {
    try {
      line.append('\n');
      out.append(line);
    } catch (IOException e) {
      throw new UncheckedIOException("write table", e);
    }
  }

  @Override
  public void flush() {
    try {
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("flush table", e);
    }
  }

  @Override
  public void close() {
    flush();
  }

  @Override
  public String toString() {
    return "TableSink" + columns;
  }
}
