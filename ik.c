/* SPDX-License-Identifier: MIT */
/*
 * What every folder shares beyond ik.h's definitions: the one number
 * syntax that the command line and --assert both read.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "ik.h"

int ik_parse_decimal(const char *s, double *v, const char **end)
{
	const char *p = s, *q;
	bool digits = false;
	char *e;

	while (isdigit((unsigned char)*p))
		p++, digits = true;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			digits = true;
	if (!digits)
		return -EINVAL;
	if (*p == 'e' || *p == 'E') {
		q = p + 1 + (p[1] == '+' || p[1] == '-');
		if (isdigit((unsigned char)*q)) {
			while (isdigit((unsigned char)*q))
				q++;
			p = q;
		}
	}
	/* strtod reads the same digits; reading further means another
	 * syntax ("0x1p3"), which is refused, not half-read */
	errno = 0;
	*v = strtod(s, &e);
	if (e != p)
		return -EINVAL;
	*end = p;
	return isinf(*v) ? -ERANGE : 0;
}
