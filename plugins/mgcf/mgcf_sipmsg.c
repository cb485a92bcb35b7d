/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgcf_sipmsg: header values a B2BUA keeps. See mgcf_sipmsg.h.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mgcf_sipmsg.h"

static int copy(char *out, size_t size, const char *p, size_t n)
{
	while (n && isspace((unsigned char)*p))
		p++, n--;
	while (n && isspace((unsigned char)p[n - 1]))
		n--;
	if (n >= size)
		return -ENOSPC;
	memmove(out, p, n);
	out[n] = '\0';
	return 0;
}

/* Where the parameters of a From/To/Contact value start (after the
 * name-addr's '>', or the first ';' of an addr-spec), or len. */
static size_t params_at(const char *v, size_t len)
{
	const char *gt, *lt = memchr(v, '<', len);
	const char *semi;

	if (lt) {
		gt = memchr(lt, '>', len - (size_t)(lt - v));
		return gt ? (size_t)(gt - v) + 1 : len;
	}
	semi = memchr(v, ';', len);
	return semi ? (size_t)(semi - v) : len;
}

int mgcf_hdr_tag(const char *v, size_t len, char *out, size_t size)
{
	size_t i = params_at(v, len);

	while (i < len) {
		const char *p = memchr(v + i, ';', len - i);
		size_t n;

		if (!p)
			break;
		i = (size_t)(p - v) + 1;
		while (i < len && isspace((unsigned char)v[i]))
			i++;
		if (len - i > 4 && strncasecmp(v + i, "tag", 3) == 0) {
			size_t k = i + 3;

			while (k < len && isspace((unsigned char)v[k]))
				k++;
			if (k < len && v[k] == '=') {
				k++;
				n = strcspn(v + k, ";, \t\r\n");
				if (n > len - k)
					n = len - k;
				return copy(out, size, v + k, n);
			}
		}
	}
	return -ENOENT;
}

int mgcf_hdr_without_tag(const char *v, size_t len, char *out, size_t size)
{
	size_t at = params_at(v, len), n = 0;
	size_t i = at;

	if (at >= size)
		return -ENOSPC;
	memcpy(out, v, at);
	n = at;
	/* copy the other parameters, skip ;tag=... */
	while (i < len) {
		const char *p = memchr(v + i + 1, ';', len - i - 1);
		size_t end = p ? (size_t)(p - v) : len;
		const char *param = v + i + 1;

		while (param < v + end && isspace((unsigned char)*param))
			param++;
		if (v[i] == ';' &&
		    !(v + end - param >= 3 && strncasecmp(param, "tag", 3) == 0 &&
		      (param[3] == '=' || isspace((unsigned char)param[3])))) {
			if (n + (end - i) >= size)
				return -ENOSPC;
			memcpy(out + n, v + i, end - i);
			n += end - i;
		}
		i = end;
	}
	return copy(out, size, out, n);
}

int mgcf_hdr_uri(const char *v, size_t len, char *out, size_t size)
{
	const char *lt = memchr(v, '<', len), *gt;

	if (lt) {
		gt = memchr(lt, '>', len - (size_t)(lt - v));
		if (!gt)
			return -EINVAL;
		return copy(out, size, lt + 1, (size_t)(gt - lt - 1));
	}
	return copy(out, size, v, params_at(v, len));
}

int mgcf_hdr_element(const char *v, size_t len, unsigned index,
		     const char **elem, size_t *elen)
{
	size_t start = 0;
	int angle = 0, quote = 0;

	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? v[i] : ',';

		if (c == '"' && (i == 0 || v[i - 1] != '\\'))
			quote = !quote;
		else if (!quote && c == '<')
			angle++;
		else if (!quote && c == '>' && angle)
			angle--;
		if (c != ',' || quote || angle)
			continue;
		if (index-- == 0) {
			while (start < i && isspace((unsigned char)v[start]))
				start++;
			*elem = v + start;
			*elen = i - start;
			while (*elen && isspace((unsigned char)(*elem)[*elen - 1]))
				(*elen)--;
			return *elen ? 0 : -ENOENT;
		}
		start = i + 1;
	}
	return -ENOENT;
}

bool mgcf_hdr_has_tag(const char *v, size_t len, const char *tag)
{
	const char *e;
	size_t n;

	for (unsigned i = 0; mgcf_hdr_element(v, len, i, &e, &n) == 0; i++)
		if (n == strlen(tag) && strncasecmp(e, tag, n) == 0)
			return true;
	return false;
}

int mgcf_session_expires(const char *v, size_t len, unsigned *secs,
			 enum mgcf_refresher *refresher)
{
	const char *p = v, *end = v + len;
	unsigned long n = 0;
	unsigned digits = 0;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	for (; p < end && *p >= '0' && *p <= '9' && digits < 10; p++, digits++)
		n = n * 10 + (unsigned long)(*p - '0');
	if (!digits || !n || n > 86400 * 7)
		return -EINVAL;
	*secs = (unsigned)n;
	*refresher = MGCF_REFRESHER_NONE;
	while (p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		static const char key[] = "refresher=";

		if (!semi)
			break;
		p = semi + 1;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if ((size_t)(end - p) < sizeof(key) + 2 ||
		    strncasecmp(p, key, sizeof(key) - 1))
			continue;
		p += sizeof(key) - 1;
		if (strncasecmp(p, "uac", 3) == 0)
			*refresher = MGCF_REFRESHER_UAC;
		else if (strncasecmp(p, "uas", 3) == 0)
			*refresher = MGCF_REFRESHER_UAS;
	}
	return 0;
}

int mgcf_dtmf_relay(const char *body, size_t len, char *digit,
		    unsigned *duration_ms)
{
	const char *p = body, *end = body + len;
	bool have = false;

	*duration_ms = 160;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
		const char *eq = memchr(p, '=', n);

		if (eq) {
			const char *val = eq + 1;

			while (val < p + n && isspace((unsigned char)*val))
				val++;
			if ((size_t)(eq - p) >= 6 &&
			    strncasecmp(p, "Signal", 6) == 0 && val < p + n &&
			    strchr("0123456789*#ABCDabcd", *val)) {
				*digit = (char)toupper((unsigned char)*val);
				have = true;
			} else if ((size_t)(eq - p) >= 8 &&
				   strncasecmp(p, "Duration", 8) == 0) {
				*duration_ms = (unsigned)atoi(val);
			}
		}
		p = eol ? eol + 1 : end;
	}
	if (*duration_ms < 40)
		*duration_ms = 40;
	if (*duration_ms > 8000)
		*duration_ms = 8000;
	return have ? 0 : -EINVAL;
}
