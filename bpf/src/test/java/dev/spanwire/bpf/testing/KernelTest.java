package dev.spanwire.bpf.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A test that loads BPF programs into the running kernel. It runs wherever the host allows BPF
 * (root, or CAP_BPF + CAP_PERFMON, and libbpf); elsewhere it is skipped with the reason printed,
 * except under {@code CI=true}, where a skip would hide a broken CI and so fails instead.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("kernel")
@ExtendWith(KernelCondition.class)
public @interface KernelTest {}
