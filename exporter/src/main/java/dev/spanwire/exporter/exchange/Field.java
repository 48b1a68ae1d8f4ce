package dev.spanwire.exporter.exchange;

/** One named value of an event or span: a String, Long, Double or Boolean. */
public record Field(String name, Object value) {}
