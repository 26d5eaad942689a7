/* SPDX-License-Identifier: MIT */
/*
 * Topologies from outside (--topology, HWLOC_XMLFILE, HWLOC_SYNTHETIC)
 * are checked here before hwloc sees them, because hwloc trusts its
 * input: it waits forever on a FIFO, reads /dev/zero until memory runs
 * out, recurses once per nesting level until the stack runs out and
 * sizes a bitmap by the largest CPU number it is given (4294967295 costs
 * 512 MiB). So a file is opened without blocking and read only when it
 * is regular and small, and one pass over its text bounds the nesting
 * and the numbers hwloc allocates by.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../ik.h"
#include "affinity.h"

/* 32-bit words of a bitmap up to CPU IK_TOPO_INDEX_MAX (after "0xf...f,") */
#define BITMAP_WORDS_MAX ((IK_TOPO_INDEX_MAX + 1) / 32)

static int refuse(char *why, size_t len, int err, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return err;
}

static int too_big(char *why, size_t len)
{
	return refuse(why, len, -EFBIG,
		      "over the %u MiB a topology file may have (an lstopo "
		      "export of a 4,096-PU machine is 1.6 MiB)",
		      IK_TOPO_FILE_MAX >> 20);
}

int ik_topo_read_xml(const char *path, char **buf, size_t *len, char *why,
		     size_t whylen)
{
	unsigned mode = 0;
	bool reading;
	int ret = ik_read_regular(path, IK_TOPO_FILE_MAX, buf, len, &mode,
				  &reading);

	if (ret == -EINVAL)
		return refuse(why, whylen, ret,
			      "%s, not a regular file (give an lstopo XML "
			      "export)",
			      ik_file_kind(mode));
	if (ret == -EFBIG)
		return too_big(why, whylen);
	if (ret == -ENOMEM)
		return refuse(why, whylen, ret, "out of memory reading it");
	if (ret)
		return refuse(why, whylen, ret, "cannot %s it: %s",
			      reading ? "read" : "open", strerror(-ret));
	ret = ik_topo_xml_check(*buf, *len, why, whylen);
	if (ret) {
		free(*buf);
		*buf = NULL;
		*len = 0;
	}
	return ret;
}

/* The cheap pass: a cursor over the text and what it has seen. */
struct scan {
	const char *s, *p, *end;
	unsigned depth;
	char *why;
	size_t len;
};

static int not_topology(struct scan *x, const char *what)
{
	return refuse(x->why, x->len, -EINVAL,
		      "not an hwloc XML topology (%s at byte %zu; make one "
		      "with: lstopo --of xml FILE.xml)",
		      what, (size_t)(x->p - x->s));
}

static bool space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == ':' || c == '-' ||
	       c == '.' || (unsigned char)c >= 0x80;
}

static bool at(const struct scan *x, const char *lit)
{
	size_t n = strlen(lit);

	return (size_t)(x->end - x->p) >= n && !memcmp(x->p, lit, n);
}

/* Move past the next lit; false if there is none. */
static bool skip_past(struct scan *x, const char *lit)
{
	const char *q = memmem(x->p, (size_t)(x->end - x->p), lit, strlen(lit));

	if (!q)
		return false;
	x->p = q + strlen(lit);
	return true;
}

/* What hwloc reads as a number or sizes a bitmap by, bounded. */
static int check_attr(struct scan *x, const char *an, size_t anl, const char *v,
		      size_t vl, const char *type, size_t typel)
{
	unsigned long long n = 0;
	size_t i, words = 1;

	if (anl == 8 && !memcmp(an, "os_index", 8)) {
		for (i = 0; i < vl && isdigit((unsigned char)v[i]); i++)
			if (n <= IK_TOPO_INDEX_MAX)
				n = n * 10 + (unsigned)(v[i] - '0');
		if (!vl || i < vl)
			return refuse(x->why, x->len, -EINVAL,
				      "%.*s os_index '%.*s' is not a number "
				      "from 0 to %u",
				      (int)typel, type,
				      (int)(vl > 24 ? 24 : vl), v,
				      IK_TOPO_INDEX_MAX);
		if (n > IK_TOPO_INDEX_MAX)
			return refuse(x->why, x->len, -EINVAL,
				      "%.*s os_index %.*s is over %u, the "
				      "largest os_index accepted",
				      (int)typel, type,
				      (int)(vl > 24 ? 24 : vl), v,
				      IK_TOPO_INDEX_MAX);
		return 0;
	}
	/* cpuset, complete_cpuset, nodeset, initiator_cpuset, ... */
	if ((anl >= 6 && !memcmp(an + anl - 6, "cpuset", 6)) ||
	    (anl >= 7 && !memcmp(an + anl - 7, "nodeset", 7))) {
		for (i = 0; i < vl; i++) {
			if (v[i] == '&')
				return refuse(x->why, x->len, -EINVAL,
					      "a character reference in %.*s; "
					      "hwloc writes none",
					      (int)anl, an);
			words += v[i] == ',';
		}
		/* an infinite bitmap's "0xf...f" is no word of its own */
		words -= vl > 8 && !memcmp(v, "0xf...f,", 8);
		if (words > BITMAP_WORDS_MAX)
			return refuse(x->why, x->len, -EINVAL,
				      "a %.*s of %zu 32-bit words reaches past "
				      "%u, the largest os_index accepted",
				      (int)anl, an, words, IK_TOPO_INDEX_MAX);
	}
	return 0;
}

/* x->p is just past "<" and at a name: read the tag, check attributes. */
static int start_tag(struct scan *x)
{
	const char *type = "object", *an, *v, *q;
	size_t typel = 6, anl;
	int ret;

	while (x->p < x->end && name_char(*x->p))
		x->p++;
	for (;;) {
		while (x->p < x->end && space(*x->p))
			x->p++;
		if (x->p == x->end)
			return not_topology(x, "an unterminated tag");
		if (*x->p == '>' || at(x, "/>")) {
			/* an empty element is one level deeper too */
			if (x->depth + 1 > IK_TOPO_DEPTH_MAX)
				return refuse(x->why, x->len, -EINVAL,
					      "elements nested more than %d "
					      "deep (an lstopo export nests "
					      "about 12)",
					      IK_TOPO_DEPTH_MAX);
			x->depth += *x->p == '>';
			x->p += *x->p == '>' ? 1 : 2;
			return 0;
		}
		an = x->p;
		while (x->p < x->end && name_char(*x->p))
			x->p++;
		anl = (size_t)(x->p - an);
		while (x->p < x->end && space(*x->p))
			x->p++;
		if (!anl || x->p == x->end || *x->p++ != '=')
			return not_topology(x, "a malformed attribute");
		while (x->p < x->end && space(*x->p))
			x->p++;
		if (x->p == x->end || (*x->p != '"' && *x->p != '\''))
			return not_topology(x, "an unquoted attribute");
		v = x->p + 1;
		q = memchr(v, *x->p, (size_t)(x->end - v));
		if (!q)
			return not_topology(x, "an unterminated attribute");
		x->p = q + 1;
		if (anl == 4 && !memcmp(an, "type", 4)) {
			type = v;
			typel = (size_t)(q - v);
		}
		ret = check_attr(x, an, anl, v, (size_t)(q - v), type, typel);
		if (ret)
			return ret;
	}
}

/*
 * <!DOCTYPE ...>: an internal subset ("[...]") could declare entities
 * (elements expanded where our scan does not look) or attribute defaults
 * (an os_index the text never shows). hwloc writes neither.
 */
static int doctype(struct scan *x)
{
	char quote = 0;

	for (; x->p < x->end; x->p++) {
		char c = *x->p;

		if (quote) {
			quote = c == quote ? 0 : quote;
		} else if (c == '"' || c == '\'') {
			quote = c;
		} else if (c == '[') {
			return refuse(x->why, x->len, -EINVAL,
				      "a DOCTYPE with declarations of its own "
				      "(entities or defaults); hwloc writes "
				      "none");
		} else if (c == '>') {
			x->p++;
			return 0;
		}
	}
	return not_topology(x, "an unterminated DOCTYPE");
}

/*
 * The XML declaration may switch the encoding; markup in anything but
 * an ASCII superset would hide from this scan (hwloc writes UTF-8).
 */
static int declaration(struct scan *x, const char *decl_end)
{
	const char *e = memmem(x->p, (size_t)(decl_end - x->p), "encoding", 8);
	const char *v, *q;

	if (!e)
		return 0;
	for (v = e + 8; v < decl_end && (space(*v) || *v == '='); v++)
		;
	if (v == decl_end || (*v != '"' && *v != '\''))
		return not_topology(x, "a malformed XML declaration");
	q = memchr(v + 1, *v, (size_t)(decl_end - v - 1));
	if (!q)
		return not_topology(x, "a malformed XML declaration");
	v++;
	if (((size_t)(q - v) == 5 && !strncasecmp(v, "UTF-8", 5)) ||
	    ((size_t)(q - v) == 8 && !strncasecmp(v, "US-ASCII", 8)) ||
	    ((size_t)(q - v) == 5 && !strncasecmp(v, "ASCII", 5)))
		return 0;
	return refuse(x->why, x->len, -EINVAL,
		      "encoding '%.*s': only UTF-8 topologies are read",
		      (int)(q - v > 24 ? 24 : q - v), v);
}

int ik_topo_xml_check(const char *buf, size_t len, char *why, size_t whylen)
{
	struct scan x = {.s = buf,
			 .p = buf,
			 .end = buf + len,
			 .why = why,
			 .len = whylen};
	const char *lt;
	int ret;

	if (memchr(buf, 0, len))
		return refuse(why, whylen, -EINVAL,
			      "not an hwloc XML topology (it holds NUL bytes; "
			      "only UTF-8 XML is read)");
	if (at(&x, "\xEF\xBB\xBF")) /* a UTF-8 byte order mark */
		x.p += 3;
	while (x.p < x.end && space(*x.p))
		x.p++;
	if (x.p < x.end && *x.p != '<')
		return not_topology(&x, "text before the first tag");
	while ((lt = memchr(x.p, '<', (size_t)(x.end - x.p)))) {
		x.p = lt + 1;
		if (at(&x, "!--")) {
			if (!skip_past(&x, "-->"))
				return not_topology(&x, "an unterminated "
							"comment");
		} else if (at(&x, "![CDATA[")) {
			if (!skip_past(&x, "]]>"))
				return not_topology(&x, "an unterminated CDATA "
							"section");
		} else if (at(&x, "!DOCTYPE")) {
			ret = doctype(&x);
			if (ret)
				return ret;
		} else if (at(&x, "?")) {
			const char *start = x.p;

			if (!skip_past(&x, "?>"))
				return not_topology(&x, "an unterminated "
							"processing "
							"instruction");
			if (x.p - start > 6 && !memcmp(start, "?xml", 4) &&
			    space(start[4])) {
				const char *decl_end = x.p;

				x.p = start;
				ret = declaration(&x, decl_end);
				x.p = decl_end;
				if (ret)
					return ret;
			}
		} else if (at(&x, "/")) {
			if (!skip_past(&x, ">"))
				return not_topology(&x, "an unterminated tag");
			x.depth -= x.depth > 0;
		} else if (x.p < x.end && name_char(*x.p) &&
			   !isdigit((unsigned char)*x.p) && *x.p != '-' &&
			   *x.p != '.') {
			ret = start_tag(&x);
			if (ret)
				return ret;
		} else {
			return not_topology(&x, "a stray '<'");
		}
	}
	return 0;
}

/* Arities multiply to the PU count: "pack:2 [numa] core:4 pu:2", "2 4". */
int ik_topo_synthetic_check(const char *desc, char *why, size_t whylen)
{
	unsigned long long pus = 1, v;
	const char *p = desc, *tok, *num, *ix;
	char *e;

	while (*p) {
		while (isspace((unsigned char)*p))
			p++;
		tok = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		if (tok == p || *tok == '[') /* memory attached: no arity */
			continue;
		num = memchr(tok, ':', (size_t)(p - tok));
		num = num ? num + 1 : tok;
		if (!isdigit((unsigned char)*num))
			continue; /* hwloc will say what it makes of it */
		v = strtoull(num, NULL, 10);
		if (v > (IK_TOPO_INDEX_MAX + 1ULL) / pus)
			return refuse(why, whylen, -EINVAL,
				      "describes more than %u PUs",
				      IK_TOPO_INDEX_MAX + 1);
		pus *= v ? v : 1;
	}
	/* "pu:2(indexes=0,4)" names os indexes itself */
	for (ix = strstr(desc, "indexes="); ix; ix = strstr(ix + 1, "indexes="))
		for (p = ix + 8; *p && !isspace((unsigned char)*p) && *p != ')';
		     p++) {
			if (!isdigit((unsigned char)*p))
				continue;
			v = strtoull(p, &e, 10);
			if (v > IK_TOPO_INDEX_MAX)
				return refuse(why, whylen, -EINVAL,
					      "index %.*s is over %u, the "
					      "largest os_index accepted",
					      (int)(e - p > 24 ? 24 : e - p), p,
					      IK_TOPO_INDEX_MAX);
			p = e - 1;
		}
	return 0;
}
