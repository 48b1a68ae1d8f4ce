/* Recognising the first bytes of an HTTP connection. */
#pragma once

#include "kernel_types.h"

#define HTTP_PREFIX_BYTES 16

enum http_kind {
	HTTP_NONE = 0,
	HTTP_REQUEST = 1,  /* a method and a space, or the HTTP/2 connection preface */
	HTTP_RESPONSE = 2, /* "HTTP/1.", or an HTTP/2 server's first SETTINGS */
	HTTP2_FRAME = 3,   /* an HTTP/2 HEADERS frame: a connection met mid-stream; which side unknown */
};

/* The first n (1..8) bytes of a string literal as a little-endian word; a constant at -O2. */
static __always_inline __u64 text_word(const char *s, int n)
{
	__u64 w = 0;
	for (int i = 0; i < n; i++)
		w |= (__u64)(__u8)s[i] << (8 * i);
	return w;
}

/* Whether the word holds the n-byte literal in its low bytes. */
static __always_inline bool word_starts_with(__u64 word, const char *s, int n)
{
	__u64 mask = n >= 8 ? ~0ULL : (1ULL << (8 * n)) - 1;
	return (word & mask) == text_word(s, n);
}

/* Classify the first HTTP_PREFIX_BYTES of a stream (bytes past the data are zero). The bytes are
 * compared as two words rather than one by one: a branch per byte multiplied the states the
 * verifier explores past its limit with newer compilers. */
static __always_inline enum http_kind http_kind(const __u8 *b)
{
	__u64 w0, w1;
	__builtin_memcpy(&w0, b, 8);
	__builtin_memcpy(&w1, b + 8, 8);
	if (word_starts_with(w0, "HTTP/1.", 7))
		return HTTP_RESPONSE;
	/* every HTTP method llhttp knows (WebDAV, CalDAV, UPnP, PURGE, QUERY included), so a
	 * connection off the port list is not ignored for good for using one */
	if (word_starts_with(w0, "GET ", 4) || word_starts_with(w0, "POST ", 5) ||
	    word_starts_with(w0, "PUT ", 4) || word_starts_with(w0, "HEAD ", 5) ||
	    word_starts_with(w0, "PATCH ", 6) || word_starts_with(w0, "DELETE ", 7) ||
	    word_starts_with(w0, "OPTIONS ", 8) || word_starts_with(w0, "CONNECT ", 8) ||
	    word_starts_with(w0, "TRACE ", 6) || word_starts_with(w0, "COPY ", 5) ||
	    word_starts_with(w0, "LOCK ", 5) || word_starts_with(w0, "MKCOL ", 6) ||
	    word_starts_with(w0, "MOVE ", 5) || word_starts_with(w0, "PROPFIND", 8) ||
	    word_starts_with(w0, "PROPPATC", 8) || word_starts_with(w0, "SEARCH ", 7) ||
	    word_starts_with(w0, "UNLOCK ", 7) || word_starts_with(w0, "BIND ", 5) ||
	    word_starts_with(w0, "REBIND ", 7) || word_starts_with(w0, "UNBIND ", 7) ||
	    word_starts_with(w0, "ACL ", 4) || word_starts_with(w0, "REPORT ", 7) ||
	    word_starts_with(w0, "MKACTIVI", 8) || word_starts_with(w0, "CHECKOUT", 8) ||
	    word_starts_with(w0, "MERGE ", 6) || word_starts_with(w0, "M-SEARCH", 8) ||
	    word_starts_with(w0, "NOTIFY ", 7) || word_starts_with(w0, "SUBSCRIB", 8) ||
	    word_starts_with(w0, "UNSUBSCR", 8) || word_starts_with(w0, "PURGE ", 6) ||
	    word_starts_with(w0, "MKCALEND", 8) || word_starts_with(w0, "LINK ", 5) ||
	    word_starts_with(w0, "UNLINK ", 7) || word_starts_with(w0, "SOURCE ", 7) ||
	    word_starts_with(w0, "QUERY ", 6))
		return HTTP_REQUEST;
	/* the HTTP/2 connection preface begins "PRI * HTTP/2.0" */
	if (word_starts_with(w0, "PRI * HT", 8) && word_starts_with(w1, "TP/2.0", 6))
		return HTTP_REQUEST;
	/* an HTTP/2 server's first bytes: its SETTINGS frame (type 4, no flags, stream 0) of whole
	 * 6-byte settings, at most ten of them */
	__u32 length = ((w0 & 0xff) << 16) | (w0 & 0xff00) | ((w0 >> 16) & 0xff);
	if ((w0 >> 24) == 0x04 && (w1 & 0xff) == 0 && length % 6 == 0 && length <= 60)
		return HTTP_RESPONSE;
	/* a whole HEADERS frame (type 1, END_HEADERS, no flags but END_STREAM, PADDED, PRIORITY) of
	 * at most the default frame size on a stream below 2^24: how an HTTP/2 connection the
	 * capture meets late usually goes on */
	__u8 type = (w0 >> 24) & 0xff;
	__u8 flags = (w0 >> 32) & 0xff;
	__u8 stream_high = (w0 >> 40) & 0xff;
	__u32 stream = (((w0 >> 48) & 0xff) << 16) | (((w0 >> 56) & 0xff) << 8) | (w1 & 0xff);
	if (type == 0x01 && (flags & 0x04) && !(flags & ~0x2d) && stream_high == 0 && stream != 0 &&
	    length > 0 && length <= 16384)
		return HTTP2_FRAME;
	return HTTP_NONE;
}

/* Whether a first write of n bytes (1..15), too few for http_kind, may begin an HTTP start: it
 * begins with an upper-case letter, as every method, "HTTP/1." and HTTP/2's "PRI * HTTP/2.0" do.
 * A client that writes its request a few bytes at a time (one byte per write, at worst) is traced
 * on it; user space waits for enough bytes to tell, and lets the connection go if they are not
 * HTTP. One comparison, no loop: the verifier's states stay as they were (see http_kind). */
static __always_inline bool http_start_prefix(const __u8 *b, long n)
{
	return n > 0 && n < HTTP_PREFIX_BYTES && (__u8)(b[0] - 'A') < 26;
}

/* Whether first bytes of this kind are HTTP/2's: the client's preface, a server's SETTINGS, a
 * HEADERS frame (HTTP/1 starts with a letter, never with a frame's length byte). */
static __always_inline bool http2_start(enum http_kind kind, const __u8 *b)
{
	if (kind == HTTP2_FRAME)
		return true;
	if (kind == HTTP_REQUEST)
		return b[0] == 'P' && b[1] == 'R' && b[2] == 'I' && b[3] == ' ';
	return kind == HTTP_RESPONSE && b[3] == 0x04;
}
