package dev.spanwire.exporter.output;

import dev.spanwire.bpf.KernelClock;
import dev.spanwire.exporter.exchange.ExchangeSink;
import dev.spanwire.exporter.exchange.HttpExchange;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.List;

/**
 * {@code --output table}: one aligned line per exchange, the trace_http gadget's columns. Values
 * wider than their column are cut with {@code ~}; the last column is never cut.
 */
public final class TableSink implements ExchangeSink {
  private final Writer out;
  private final List<Column> columns;
  private final KernelClock clock;
  private final StringBuilder line = new StringBuilder(256);
  private boolean headerWritten;

  public TableSink(Writer out, List<Column> columns, KernelClock clock) {
    if (columns.isEmpty()) {
      throw new IllegalArgumentException("the table needs at least one column");
    }
    this.out = out;
    this.columns = List.copyOf(columns);
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
      cell(columns.get(i).header(), columns.get(i).width, i == columns.size() - 1);
    }
    write();
  }

  @Override
  public void onExchange(HttpExchange exchange) {
    writeHeader();
    line.setLength(0);
    for (int i = 0; i < columns.size(); i++) {
      Column column = columns.get(i);
      String value = column.value(exchange, clock);
      cell(value == null ? "-" : value, column.width, i == columns.size() - 1);
    }
    write();
  }

  private void cell(String value, int width, boolean last) {
    if (last) {
      line.append(value);
      return;
    }
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
