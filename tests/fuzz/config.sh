#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Replay the config parser's fuzz corpus (a bounded, deterministic run).
exec ./fuzz/fuzz_config_replay "$abs_top_srcdir"/tests/fuzz/corpus/config/*
