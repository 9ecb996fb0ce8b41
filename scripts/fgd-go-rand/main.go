// Records the random draws FGD's simulator makes for an openb run, so that tessera replays FGD's
// own arrival orders and tie-breaks (docs/fgd.md). FGD (hkust-adsl/kubernetes-scheduler-simulator,
// pkg/simulator/core.go and simulator.go) seeds Go's global math/rand with -tuneseed, then:
//  1. draws one rand.Int() (an argument of a debug log line, evaluated even when not logged);
//  2. shuffles the name-sorted pods with rand.Shuffle (SortClusterPods, --shuffle-pod=true);
//  3. tunes the workload up to -tune × the cell's GPU milli (tuneUpPods): per appended pod one
//     rand.Intn(len(pods)), plus the draw whose pod would pass the target;
//  4. sorts the nodes by name and prefixes node i's name with rand.Perm(len(nodes))[i] as "%04d-"
//     (syncClusterResourceList), so the scheduler's "smallest name wins a tie" follows that order.
//
// This program reads the same trace files tessera bundles, makes the same calls on the same
// generator, and prints per seed the shuffled pod order, the tuning draws and the node prefixes.
//
// Usage (from the repository root):
//
//	(cd scripts/fgd-go-rand && go run . -from 42 -to 51) | gzip -9 -n > workloads/fgd-go-rand.openb.json.gz
//
// Needs Go ≤ 1.23 (from 1.24 rand.Seed is a no-op by default); Debian 12's golang-go is 1.19.
package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"runtime"
	"sort"
)

type podLine struct {
	Job   string `json:"job"`
	Tasks []struct {
		NumGpu   int64 `json:"num_gpu"`
		GpuMilli int64 `json:"gpu_milli"`
	} `json:"tasks"`
}

type machineLine struct {
	Machine string `json:"machine"`
	NumGpu  int64  `json:"num_gpu"`
}

type pod struct {
	name        string
	milliPerGpu int64 // FGD's PodResource.MilliGpu
	totalMilli  int64 // FGD's TotalMilliGpu()
}

type seedDraws struct {
	Seed       int64 `json:"seed"`
	Shuffle    []int `json:"shuffle"`
	TuneDraws  []int `json:"tune_draws"`
	NodePrefix []int `json:"node_prefix"`
}

func readLines(path string, each func([]byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	sc := bufio.NewScanner(z)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if err := each(sc.Bytes()); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return sc.Err()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "fgd-go-rand:", err)
	os.Exit(1)
}

func main() {
	jobs := flag.String("jobs", "../../workloads/alibaba_gpu2023.jobs.jsonl.gz", "openb pods (tessera's JSONL)")
	machines := flag.String("machines", "../../workloads/alibaba_gpu2023.machines.jsonl.gz", "openb nodes (tessera's JSONL)")
	tune := flag.Float64("tune", 1.3, "FGD's -tune")
	from := flag.Int64("from", 42, "first seed")
	to := flag.Int64("to", 51, "last seed")
	flag.Parse()
	if *to < *from || *tune <= 0 {
		fmt.Fprintln(os.Stderr, "fgd-go-rand: need -from ≤ -to and -tune > 0")
		os.Exit(2)
	}

	var pods []pod
	err := readLines(*jobs, func(b []byte) error {
		var l podLine
		if err := json.Unmarshal(b, &l); err != nil {
			return err
		}
		if len(l.Tasks) != 1 {
			return fmt.Errorf("job %s has %d tasks, openb pods have one", l.Job, len(l.Tasks))
		}
		t := l.Tasks[0]
		p := pod{name: l.Job}
		if t.NumGpu != 0 { // pod_csv_to_yaml.py: gpu_milli in (0, 1000], above 1000 → 1000, else 0
			switch {
			case t.GpuMilli > 1000:
				p.milliPerGpu = 1000
			case t.GpuMilli > 0:
				p.milliPerGpu = t.GpuMilli
			}
			p.totalMilli = p.milliPerGpu * t.NumGpu
		}
		pods = append(pods, p)
		return nil
	})
	if err != nil {
		fail(err)
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].name < pods[j].name })
	var nodeNames []string
	var nodeMilli int64
	err = readLines(*machines, func(b []byte) error {
		var m machineLine
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		if m.NumGpu > 0 { // openb_node_list_gpu_node
			nodeNames = append(nodeNames, m.Machine)
			nodeMilli += 1000 * m.NumGpu
		}
		return nil
	})
	if err != nil {
		fail(err)
	}
	var podMilli int64
	for _, p := range pods {
		podMilli += p.totalMilli
	}
	target := *tune * float64(nodeMilli)
	if float64(podMilli) >= target {
		fail(fmt.Errorf("the pods already ask %d of %.0f milli: only tuning up is recorded", podMilli, target))
	}

	out := struct {
		Generator string      `json:"generator"`
		Pods      int         `json:"pods"`
		Nodes     int         `json:"nodes"`
		Tune      float64     `json:"tune"`
		Seeds     []seedDraws `json:"seeds"`
	}{Generator: "Go math/rand global source (" + runtime.Version() + ")", Pods: len(pods), Nodes: len(nodeNames), Tune: *tune}
	for s := *from; s <= *to; s++ {
		rand.Seed(s)
		rand.Int()
		order := make([]int, len(pods))
		for i := range order {
			order[i] = i
		}
		rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		var draws []int
		total := podMilli
		for {
			idx := rand.Intn(len(pods))
			draws = append(draws, idx)
			if float64(total+pods[idx].milliPerGpu) > target {
				break
			}
			total += pods[idx].totalMilli
		}
		out.Seeds = append(out.Seeds, seedDraws{Seed: s, Shuffle: order, TuneDraws: draws, NodePrefix: rand.Perm(len(nodeNames))})
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fail(err)
	}
}
