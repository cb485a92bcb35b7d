#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# pbxsim's bearer side: tone, echo, A-law (TAP from pbxsim itself).
exec "$PBXSIM" --selftest
