/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Plugin loader: opens modules with libltdl (or finds them preloaded),
 * checks each descriptor before trusting it, and orders the plugins so that
 * every plugin starts after the providers of the services it requires.
 * Every refusal is one log line that says what to fix.
 */
#include "config.h"

#include <errno.h>
#include <ltdl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define LOG_CAT "loader"

/* The descriptor as ABI 1.0 knew it ends with `reload`. */
#define DESC_MIN_SIZE                                                         \
	(offsetof(struct tnd_plugin, reload) + sizeof(((struct tnd_plugin *)0)->reload))

int loader_init(const char *search_path)
{
	if (lt_dlinit() != 0) {
		core_error(LOG_CAT, "libltdl: %s", lt_dlerror());
		return -EIO;
	}
	if (search_path && *search_path &&
	    lt_dlsetsearchpath(search_path) != 0) {
		core_error(LOG_CAT, "plugin path '%s': %s", search_path,
			   lt_dlerror());
		return -EINVAL;
	}
	return 0;
}

void loader_exit(void)
{
	/* With TANDEM_NO_DLCLOSE modules stay mapped, so leak checkers can
	 * name what they allocated (see loader_unload_all). */
	if (!getenv("TANDEM_NO_DLCLOSE"))
		lt_dlexit();
}

struct plugin_inst *loader_find(struct loader *ld, const char *name)
{
	for (size_t i = 0; i < ld->nplugins; i++)
		if (strcmp(ld->plugins[i].desc->name, name) == 0)
			return &ld->plugins[i];
	return NULL;
}

struct plugin_inst *loader_find_desc(struct loader *ld,
				     const struct tnd_plugin *desc)
{
	for (size_t i = 0; i < ld->nplugins; i++)
		if (ld->plugins[i].desc == desc)
			return &ld->plugins[i];
	return NULL;
}

static int check_params(const char *module, const struct tnd_param *params)
{
	for (const struct tnd_param *p = params; p && p->name; p++) {
		if (!p->def && !(p->flags & TND_PARAM_REQUIRED)) {
			core_error(LOG_CAT, "plugin '%s': parameter '%s' has no "
				   "default and is not marked required",
				   module, p->name);
			return -EINVAL;
		}
		if (p->type == TND_ENUM && !p->choices) {
			core_error(LOG_CAT, "plugin '%s': enum parameter '%s' "
				   "lists no choices", module, p->name);
			return -EINVAL;
		}
	}
	return 0;
}

/* Check a descriptor from the outside in: size and ABI before anything
 * the size does not cover. */
static int check_descriptor(const char *module, const struct tnd_plugin *d)
{
	if (d->abi_major != TND_ABI_MAJOR) {
		core_error(LOG_CAT, "plugin '%s': built for plugin ABI %u.%u, "
			   "this tandemd has ABI %u.%u: rebuild the plugin",
			   module, d->abi_major, d->abi_minor, TND_ABI_MAJOR,
			   TND_ABI_MINOR);
		return -EPROTO;
	}
	if (d->abi_minor > TND_ABI_MINOR) {
		core_error(LOG_CAT, "plugin '%s': needs plugin ABI %u.%u, this "
			   "tandemd has %u.%u: upgrade tandemd", module,
			   d->abi_major, d->abi_minor, TND_ABI_MAJOR,
			   TND_ABI_MINOR);
		return -EPROTO;
	}
	if (d->size < DESC_MIN_SIZE) {
		core_error(LOG_CAT, "plugin '%s': descriptor is %u bytes, ABI "
			   "%u.%u needs at least %zu: rebuild the plugin",
			   module, d->size, d->abi_major, d->abi_minor,
			   (size_t)DESC_MIN_SIZE);
		return -EPROTO;
	}
	if (!d->name || strcmp(d->name, module) != 0) {
		core_error(LOG_CAT, "plugin '%s': descriptor names itself '%s'",
			   module, d->name ? d->name : "(null)");
		return -EINVAL;
	}
	if (!d->init || !d->fini) {
		core_error(LOG_CAT, "plugin '%s': descriptor lacks init or fini",
			   module);
		return -EINVAL;
	}
	if (d->params && d->cfg_size == 0) {
		core_error(LOG_CAT, "plugin '%s': has parameters but cfg_size "
			   "is 0", module);
		return -EINVAL;
	}
	return check_params(module, d->params);
}

int loader_load(struct loader *ld, const char *name, int line)
{
	struct plugin_inst *inst;
	struct tnd_plugin *desc;
	lt_dlhandle module;

	if (loader_find(ld, name)) {
		core_error(LOG_CAT, "plugin '%s' is listed twice", name);
		return -EEXIST;
	}
	module = lt_dlopenext(name);
	if (!module) {
		const char *path = lt_dlgetsearchpath();

		core_error(LOG_CAT, "cannot load plugin '%s': %s (search path: "
			   "%s)", name, lt_dlerror(), path ? path : "default");
		return -ENOENT;
	}
	desc = lt_dlsym(module, "tnd_plugin");
	if (!desc) {
		core_error(LOG_CAT, "plugin '%s': no tnd_plugin descriptor "
			   "(%s_LTX_tnd_plugin)", name, name);
		lt_dlclose(module);
		return -EINVAL;
	}
	if (check_descriptor(name, desc) != 0 || loader_find_desc(ld, desc)) {
		if (loader_find_desc(ld, desc))
			core_error(LOG_CAT, "plugin '%s' is the same module as "
				   "one already loaded", name);
		lt_dlclose(module);
		return -EINVAL;
	}
	inst = realloc(ld->plugins, (ld->nplugins + 1) * sizeof(*inst));
	if (!inst) {
		lt_dlclose(module);
		return -ENOMEM;
	}
	ld->plugins = inst;
	inst = &ld->plugins[ld->nplugins++];
	memset(inst, 0, sizeof(*inst));
	inst->desc = desc;
	inst->module = module;
	inst->load_line = line;
	core_debug(LOG_CAT, "loaded plugin %s %s", name,
		   desc->version ? desc->version : "");
	return 0;
}

/* ---- Ordering -------------------------------------------------------- */

/* The plugin providing `ref`, or NULL; `*best` is any version found. */
static struct plugin_inst *provider_of(struct loader *ld,
				       const struct tnd_service_ref *ref,
				       unsigned *best)
{
	*best = 0;
	for (size_t i = 0; i < ld->nplugins; i++) {
		const struct tnd_service_ref *p = ld->plugins[i].desc->provides;

		for (; p && p->name; p++) {
			if (strcmp(p->name, ref->name) != 0)
				continue;
			if (p->version >= ref->version)
				return &ld->plugins[i];
			if (p->version > *best)
				*best = p->version;
		}
	}
	return NULL;
}

static int check_requires(struct loader *ld)
{
	int rc = 0;

	for (size_t i = 0; i < ld->nplugins; i++) {
		const struct tnd_plugin *d = ld->plugins[i].desc;

		for (const struct tnd_service_ref *r = d->requires; r && r->name;
		     r++) {
			unsigned found;

			if (provider_of(ld, r, &found))
				continue;
			if (found)
				core_error(LOG_CAT, "plugin '%s' requires service "
					   "'%s' version %u, but the loaded "
					   "provider has only version %u",
					   d->name, r->name, r->version,
					   found);
			else
				core_error(LOG_CAT, "plugin '%s' requires service "
					   "'%s' version %u, which no loaded "
					   "plugin provides", d->name, r->name,
					   r->version);
			rc = -ENOENT;
		}
	}
	return rc;
}

enum mark { UNSEEN, VISITING, DONE };

struct sort_state {
	struct loader *ld;
	enum mark *mark;
	size_t *order;
	size_t norder;
	size_t *path; /* the chain being visited, to print a cycle */
	size_t depth;
};

static void report_cycle(struct sort_state *st, size_t again)
{
	char chain[512] = "";
	size_t used = 0, from = 0;

	while (from < st->depth && st->path[from] != again)
		from++;
	for (size_t k = from; k <= st->depth; k++) {
		size_t idx = k < st->depth ? st->path[k] : again;
		int n = snprintf(chain + used, sizeof(chain) - used, "%s%s",
				 k > from ? " -> " : "",
				 st->ld->plugins[idx].desc->name);

		if (n < 0 || (size_t)n >= sizeof(chain) - used)
			break;
		used += (size_t)n;
	}
	core_error(LOG_CAT, "plugin dependency cycle: %s", chain);
}

static int visit(struct sort_state *st, size_t i);

/* ABI 1.1 added `uses`; an older descriptor ends before it. */
static bool has_uses(const struct tnd_plugin *d)
{
	return d->size >= offsetof(struct tnd_plugin, uses) + sizeof(d->uses);
}

/* Visit the providers of `refs` so they come before plugin i. */
static int visit_providers(struct sort_state *st, size_t i,
			   const struct tnd_service_ref *refs)
{
	for (const struct tnd_service_ref *r = refs; r && r->name; r++) {
		unsigned found;
		struct plugin_inst *p = provider_of(st->ld, r, &found);
		int rc;

		if (!p || p == &st->ld->plugins[i])
			continue;
		rc = visit(st, (size_t)(p - st->ld->plugins));
		if (rc)
			return rc;
	}
	return 0;
}

static int visit(struct sort_state *st, size_t i)
{
	const struct tnd_plugin *d = st->ld->plugins[i].desc;
	int rc;

	if (st->mark[i] == DONE)
		return 0;
	if (st->mark[i] == VISITING) {
		report_cycle(st, i);
		return -ELOOP;
	}
	st->mark[i] = VISITING;
	st->path[st->depth++] = i;
	rc = visit_providers(st, i, d->requires);
	if (rc == 0 && has_uses(d))
		rc = visit_providers(st, i, d->uses);
	if (rc)
		return rc;
	st->depth--;
	st->mark[i] = DONE;
	st->order[st->norder++] = i;
	return 0;
}

static int apply_order(struct loader *ld, const size_t *order)
{
	struct plugin_inst *sorted = calloc(ld->nplugins, sizeof(*sorted));

	if (!sorted)
		return -ENOMEM;
	for (size_t k = 0; k < ld->nplugins; k++)
		sorted[k] = ld->plugins[order[k]];
	free(ld->plugins);
	ld->plugins = sorted;
	return 0;
}

int loader_sort(struct loader *ld)
{
	struct sort_state st = { .ld = ld };
	int rc = check_requires(ld);

	if (rc || ld->nplugins == 0)
		return rc;
	st.mark = calloc(ld->nplugins, sizeof(*st.mark));
	st.order = calloc(ld->nplugins, sizeof(*st.order));
	st.path = calloc(ld->nplugins, sizeof(*st.path));
	rc = (!st.mark || !st.order || !st.path) ? -ENOMEM : 0;
	/* Visiting in config order keeps independent plugins in the order
	 * the operator listed them. */
	for (size_t i = 0; rc == 0 && i < ld->nplugins; i++)
		rc = visit(&st, i);
	if (rc == 0)
		rc = apply_order(ld, st.order);
	free(st.mark);
	free(st.order);
	free(st.path);
	return rc;
}

void loader_unload_all(struct loader *ld)
{
	for (size_t i = ld->nplugins; i-- > 0;) {
		free(ld->plugins[i].cfg);
		/* A module must stay mapped while its handles could still be
		 * called back; by now the host has closed them all. */
		if (!getenv("TANDEM_NO_DLCLOSE"))
			lt_dlclose(ld->plugins[i].module);
	}
	free(ld->plugins);
	ld->plugins = NULL;
	ld->nplugins = 0;
}
