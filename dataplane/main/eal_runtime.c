/* EAL's runtime directory, found and removed (eal_runtime.h). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eal_runtime.h"

/* The value of --NAME VALUE or --NAME=VALUE in argv, else NULL; the last
 * one wins, as in EAL's getopt. */
static const char *arg_value(int argc, char *const *argv, const char *name)
{
	const char *v = NULL;
	size_t len = strlen(name);

	for (int i = 0; i < argc; i++) {
		if (strncmp(argv[i], name, len))
			continue;
		if (argv[i][len] == '=')
			v = argv[i] + len + 1;
		else if (!argv[i][len] && i + 1 < argc)
			v = argv[++i];
	}
	return v;
}

bool eal_keeps_hugepage_files(int argc, char *const *argv)
{
	for (int i = 0; i < argc; i++)
		if (!strcmp(argv[i], "--no-huge") || !strcmp(argv[i], "--in-memory") ||
		    !strncmp(argv[i], "--huge-unlink", strlen("--huge-unlink")))
			return false;
	return true;
}

static const char *runtime_base(void)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (getuid() == 0)
		return "/var/run";
	return xdg && *xdg ? xdg : "/tmp";
}

void eal_runtime_note(struct eal_runtime *rt, int argc, char *const *argv)
{
	const char *prefix = arg_value(argc, argv, "--file-prefix");

	if (!prefix || !*prefix || strchr(prefix, '/'))
		prefix = "rte"; /* EAL's default */
	snprintf(rt->dir, sizeof(rt->dir), "%s/dpdk/%s", runtime_base(), prefix);
	rt->existed = access(rt->dir, F_OK) == 0;
}

void eal_runtime_remove(const struct eal_runtime *rt)
{
	char path[1024], *slash;
	struct dirent *e;
	DIR *d;

	if (!rt->dir[0] || rt->existed || !(d = opendir(rt->dir)))
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", rt->dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(rt->dir);
	snprintf(path, sizeof(path), "%s", rt->dir);
	slash = strrchr(path, '/');
	if (slash) {
		*slash = '\0';
		rmdir(path); /* dpdk/: only when no other prefix is in it */
	}
}
