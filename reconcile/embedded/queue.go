package embedded

import (
	"container/heap"
	"time"
)

// queue is a delaying work queue: each key is due at one time (adding a key
// again keeps the earlier time), and keys come out in due-time order, ties in
// the order they were added. It is not safe for concurrent use (the engine's
// lock guards it).
type queue struct {
	due  map[string]time.Time
	h    itemHeap
	next uint64
}

type item struct {
	key string
	at  time.Time
	seq uint64
}

type itemHeap []item

func (h itemHeap) Len() int { return len(h) }
func (h itemHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h itemHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *itemHeap) Push(x any)   { *h = append(*h, x.(item)) }
func (h *itemHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

func newQueue() *queue { return &queue{due: map[string]time.Time{}} }

// add makes key due at at, unless it is already due earlier.
func (q *queue) add(key string, at time.Time) {
	if cur, ok := q.due[key]; ok && !at.Before(cur) {
		return
	}
	q.due[key] = at
	q.next++
	heap.Push(&q.h, item{key: key, at: at, seq: q.next})
}

// peek returns the earliest due time; false when the queue is empty.
func (q *queue) peek() (time.Time, bool) {
	for q.h.Len() > 0 {
		it := q.h[0]
		if at, ok := q.due[it.key]; ok && at.Equal(it.at) {
			return it.at, true
		}
		heap.Pop(&q.h) // stale: the key was re-added earlier or already taken
	}
	return time.Time{}, false
}

// pop removes and returns up to max keys due at or before now.
func (q *queue) pop(now time.Time, max int) []string {
	var out []string
	for len(out) < max {
		at, ok := q.peek()
		if !ok || at.After(now) {
			break
		}
		it := heap.Pop(&q.h).(item)
		delete(q.due, it.key)
		out = append(out, it.key)
	}
	return out
}
