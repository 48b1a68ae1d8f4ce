/* Recognising the first bytes of an HTTP connection. */
#pragma once

#include "kernel_types.h"

#define HTTP_PREFIX_BYTES 16

enum http_kind {
	HTTP_NONE = 0,
	HTTP_REQUEST = 1,  /* a method and a space, or the HTTP/2 connection preface */
	HTTP_RESPONSE = 2, /* "HTTP/1." */
};

static __always_inline bool starts_with(const __u8 *b, const char *prefix, int n)
{
	for (int i = 0; i < n; i++)
		if (b[i] != (__u8)prefix[i])
			return false;
	return true;
}

/* Classify the first HTTP_PREFIX_BYTES of a stream (bytes past the data are zero). */
static __always_inline enum http_kind http_kind(const __u8 *b)
{
	switch (b[0]) {
	case 'G':
		return starts_with(b, "GET ", 4) ? HTTP_REQUEST : HTTP_NONE;
	case 'P':
		if (starts_with(b, "POST ", 5) || starts_with(b, "PUT ", 4) ||
		    starts_with(b, "PATCH ", 6) || starts_with(b, "PRI * HTTP/2.0", 14))
			return HTTP_REQUEST;
		return HTTP_NONE;
	case 'H':
		if (starts_with(b, "HEAD ", 5))
			return HTTP_REQUEST;
		return starts_with(b, "HTTP/1.", 7) ? HTTP_RESPONSE : HTTP_NONE;
	case 'D':
		return starts_with(b, "DELETE ", 7) ? HTTP_REQUEST : HTTP_NONE;
	case 'O':
		return starts_with(b, "OPTIONS ", 8) ? HTTP_REQUEST : HTTP_NONE;
	case 'C':
		return starts_with(b, "CONNECT ", 8) ? HTTP_REQUEST : HTTP_NONE;
	case 'T':
		return starts_with(b, "TRACE ", 6) ? HTTP_REQUEST : HTTP_NONE;
	default:
		return HTTP_NONE;
	}
}
