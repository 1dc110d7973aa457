// The generator's outputs: the summary (JSON) and one line per request (TSV).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"time"
)

type kindSummary struct {
	Requests  int            `json:"requests"`
	Seconds   float64        `json:"seconds"`
	PerSecond float64        `json:"per_second"`
	Statuses  map[string]int `json:"statuses"`
	Codes     map[string]int `json:"codes"`
	Errors    map[string]int `json:"errors"`
	OK        int            `json:"ok"`
	P50Ms     float64        `json:"p50_ms"`
	P99Ms     float64        `json:"p99_ms"`
	P999Ms    float64        `json:"p999_ms"`
	MaxMs     float64        `json:"max_ms"`
}

type summary struct {
	Seconds   float64                 `json:"seconds"`
	Requests  int                     `json:"requests"`
	PerSecond float64                 `json:"per_second"`
	CPUMs     float64                 `json:"generator_cpu_ms"`
	MaxRSSKiB int64                   `json:"generator_max_rss_kib"`
	Kinds     map[string]*kindSummary `json:"kinds"`
	AllKinds  *kindSummary            `json:"all"`
}

func summarise(requests []request, results []result, started time.Time, elapsed, cpu time.Duration, maxrss int64) summary {
	byKind := map[string][]int{}
	all := make([]int, len(requests))
	for i, r := range requests {
		byKind[r.kind] = append(byKind[r.kind], i)
		all[i] = i
	}
	out := summary{Seconds: elapsed.Seconds(), Requests: len(requests), CPUMs: float64(cpu) / 1e6, MaxRSSKiB: maxrss, Kinds: map[string]*kindSummary{}}
	out.PerSecond = float64(len(requests)) / elapsed.Seconds()
	for kind, idx := range byKind {
		out.Kinds[kind] = summariseKind(idx, results, started)
	}
	out.AllKinds = summariseKind(all, results, started)
	return out
}

func summariseKind(idx []int, results []result, started time.Time) *kindSummary {
	s := &kindSummary{Requests: len(idx), Statuses: map[string]int{}, Codes: map[string]int{}, Errors: map[string]int{}}
	latencies := make([]time.Duration, 0, len(idx))
	var last time.Time
	for _, i := range idx {
		r := results[i]
		latencies = append(latencies, r.latency)
		if r.completed.After(last) {
			last = r.completed
		}
		if r.failed != "" {
			s.Errors[r.failed]++
			continue
		}
		s.Statuses[fmt.Sprint(r.status)]++
		if r.status < 300 {
			s.OK++
		}
		if r.code != "" {
			s.Codes[r.code]++
		}
	}
	// A kind's duration: from the start to its last answer (kinds of a mix share the clock).
	s.Seconds = last.Sub(started).Seconds()
	if s.Seconds > 0 {
		s.PerSecond = float64(len(idx)) / s.Seconds
	}
	sort.Slice(latencies, func(a, b int) bool { return latencies[a] < latencies[b] })
	q := func(p float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		k := int(p * float64(len(latencies)))
		if k >= len(latencies) {
			k = len(latencies) - 1
		}
		return float64(latencies[k]) / 1e6
	}
	s.P50Ms, s.P99Ms, s.P999Ms = q(0.50), q(0.99), q(0.999)
	if len(latencies) > 0 {
		s.MaxMs = float64(latencies[len(latencies)-1]) / 1e6
	}
	return s
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if path == "-" {
		_, err = os.Stdout.Write(data)
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

func writeResults(path string, requests []request, results []result) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for i, r := range results {
		status := fmt.Sprint(r.status)
		if r.failed != "" {
			status = "error:" + r.failed
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%d\t%s\n", i, requests[i].kind, status, r.code, r.latency.Microseconds(), r.id)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
