// cet-loadgen: the peak benchmark's HTTP load generator (bench/peak.py builds and drives it).
//
//	cet-loadgen -target http://127.0.0.1:8080 -requests reqs.tsv [-conns 64 | -rate 250] \
//	    -sources 200 -source-base 127.0.1.1 -summary out.json -results out.tsv
//
// Each line of the requests file is one request, sent once: kind, method, path, bearer token
// (may be empty), JSON body (may be empty), tab-separated. Requests leave from -sources client
// addresses of 127.0.0.0/8 (the gateway limits POSTs per address, and a province is many
// addresses): a closed-loop worker keeps one address, an open-loop request i uses address i mod
// -sources.
//
//	closed loop (-rate 0): -conns workers, each sending its next request when the last answered;
//	open loop (-rate R):   request i is due at i/R seconds, sent whether or not earlier ones
//	                       answered; its latency counts from when it was due (no coordinated omission).
//
// The summary (JSON) has, per kind: requests, seconds, answers by status, refusals by problem
// code, errors, p50/p99/p99.9 latency; and the generator's own CPU time. The results file has one
// line per request: index, kind, status, problem code, latency (µs), the id the answer names.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type request struct {
	kind, method, path, token string
	body                      []byte
}

type result struct {
	status    int
	code, id  string
	latency   time.Duration
	failed    string // transport error (no HTTP answer)
	completed time.Time
}

func main() {
	target := flag.String("target", "http://127.0.0.1:8080", "base URL (the gateway)")
	requestsFile := flag.String("requests", "", "requests file (TSV: kind, method, path, token, body)")
	conns := flag.Int("conns", 64, "closed loop: concurrent workers, each with its own connection")
	rate := flag.Float64("rate", 0, "open loop: requests per second (0: closed loop)")
	sources := flag.Int("sources", 200, "client source addresses")
	sourceBase := flag.String("source-base", "127.0.1.1", "first client source address (127.0.0.0/8)")
	timeout := flag.Duration("timeout", 30*time.Second, "per-request timeout")
	summaryFile := flag.String("summary", "-", "summary JSON output ('-': stdout)")
	resultsFile := flag.String("results", "", "per-request results TSV output (optional)")
	flag.Parse()

	requests, err := readRequests(*requestsFile)
	if err != nil {
		fail(err)
	}
	transports, err := makeTransports(*sources, *sourceBase, *timeout)
	if err != nil {
		fail(err)
	}
	clients := make([]*http.Client, len(transports))
	for i, t := range transports {
		clients[i] = &http.Client{Transport: t, Timeout: *timeout}
	}
	results := make([]result, len(requests))
	started := time.Now()
	if *rate > 0 {
		openLoop(clients, *target, requests, results, *rate, started)
	} else {
		closedLoop(clients, *target, requests, results, *conns)
	}
	elapsed := time.Since(started)
	var usage syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &usage)
	cpu := time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
	summary := summarise(requests, results, started, elapsed, cpu, usage.Maxrss)
	if err := writeJSON(*summaryFile, summary); err != nil {
		fail(err)
	}
	if *resultsFile != "" {
		if err := writeResults(*resultsFile, requests, results); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "cet-loadgen:", err)
	os.Exit(2)
}

func readRequests(path string) ([]request, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []request
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		fields := strings.SplitN(scanner.Text(), "\t", 5)
		if len(fields) != 5 {
			return nil, fmt.Errorf("%s:%d: want 5 tab-separated fields", path, len(out)+1)
		}
		r := request{kind: fields[0], method: fields[1], path: fields[2], token: fields[3]}
		if fields[4] != "" {
			r.body = []byte(fields[4])
		}
		out = append(out, r)
	}
	return out, scanner.Err()
}

// One transport per client address: its connections all leave from that address.
func makeTransports(n int, base string, timeout time.Duration) ([]*http.Transport, error) {
	ip := net.ParseIP(base).To4()
	if ip == nil || ip[0] != 127 {
		return nil, fmt.Errorf("-source-base %q: want an address of 127.0.0.0/8", base)
	}
	start := uint32(ip[1])<<16 | uint32(ip[2])<<8 | uint32(ip[3])
	out := make([]*http.Transport, n)
	for i := range out {
		v := start + uint32(i)
		addr := net.IPv4(127, byte(v>>16), byte(v>>8), byte(v))
		dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: addr}, Timeout: timeout}
		out[i] = &http.Transport{
			DialContext:         dialer.DialContext,
			MaxIdleConns:        0,
			MaxIdleConnsPerHost: 4096,
			IdleConnTimeout:     20 * time.Second,
		}
	}
	return out, nil
}

func send(client *http.Client, target string, r request, due time.Time) result {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(context.Background(), r.method, target+r.path, body)
	if err != nil {
		return result{failed: err.Error(), completed: time.Now(), latency: time.Since(due)}
	}
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	resp, err := client.Do(req)
	if err != nil {
		now := time.Now()
		return result{failed: shortError(err), completed: now, latency: now.Sub(due)}
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	now := time.Now()
	out := result{status: resp.StatusCode, completed: now, latency: now.Sub(due)}
	if err != nil {
		out.failed = shortError(err)
		return out
	}
	var answer map[string]any
	if json.Unmarshal(data, &answer) == nil {
		if resp.StatusCode >= 400 {
			out.code, _ = answer["code"].(string)
		} else if ids, ok := answer["enrolment_ids"].([]any); ok && len(ids) > 0 {
			out.id, _ = ids[0].(string)
		} else if id, ok := answer["passport_id"].(string); ok {
			out.id = id
		}
	}
	if resp.StatusCode >= 400 && out.code == "" {
		out.code = fmt.Sprintf("http_%d", resp.StatusCode)
	}
	return out
}

func shortError(err error) string {
	s := err.Error()
	for _, known := range []string{"connection refused", "connection reset", "timeout", "EOF", "cannot assign requested address"} {
		if strings.Contains(s, known) {
			return known
		}
	}
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}

func closedLoop(clients []*http.Client, target string, requests []request, results []result, conns int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func(client *http.Client) {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(requests) {
					return
				}
				results[i] = send(client, target, requests[i], time.Now())
			}
		}(clients[w%len(clients)])
	}
	wg.Wait()
}

func openLoop(clients []*http.Client, target string, requests []request, results []result, rate float64, started time.Time) {
	var wg sync.WaitGroup
	for i := range requests {
		due := started.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = send(clients[i%len(clients)], target, requests[i], due)
		}(i)
	}
	wg.Wait()
}
