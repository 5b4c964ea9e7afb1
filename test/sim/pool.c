/*
 * pool.c: a fixed pool of threads serving accepted connections in turn,
 * as Kahua's supervisor and kahua-httpd do (control.thread-pool, 10
 * threads each by default: :spvr-concurrency, :httpd-concurrency).
 * Connections beyond the pool wait in its queue, accepted but not read,
 * so a burst reaches the next stage at most that many at a time.
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

struct job {
	int fd;
	struct job *next;
};

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cv = PTHREAD_COND_INITIALIZER;
static struct job *pool_head, *pool_tail;
static void (*pool_serve)(void *ctx, int fd);
static void *pool_ctx;

static void *pool_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct job *j;

		pthread_mutex_lock(&pool_mu);
		while (pool_head == NULL)
			pthread_cond_wait(&pool_cv, &pool_mu);
		j = pool_head;
		pool_head = j->next;
		if (pool_head == NULL)
			pool_tail = NULL;
		pthread_mutex_unlock(&pool_mu);
		pool_serve(pool_ctx, j->fd);
		free(j);
	}
	return NULL;
}

void pool_start(int nthreads, size_t stack, void (*serve)(void *ctx, int fd), void *ctx)
{
	pthread_attr_t attr;
	int rc = pthread_attr_init(&attr);

	pool_serve = serve;
	pool_ctx = ctx;
	if (rc == 0)
		rc = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (rc == 0)
		rc = pthread_attr_setstacksize(&attr, stack);
	for (int i = 0; rc == 0 && i < nthreads; i++) {
		pthread_t t;

		rc = pthread_create(&t, &attr, pool_main, NULL);
	}
	pthread_attr_destroy(&attr);
	if (rc != 0)
		die("connection threads", strerror(rc));
}

void pool_add(int fd)
{
	struct job *j = xmalloc(sizeof *j);

	j->fd = fd;
	j->next = NULL;
	pthread_mutex_lock(&pool_mu);
	if (pool_tail != NULL)
		pool_tail->next = j;
	else
		pool_head = j;
	pool_tail = j;
	pthread_cond_signal(&pool_cv);
	pthread_mutex_unlock(&pool_mu);
}
