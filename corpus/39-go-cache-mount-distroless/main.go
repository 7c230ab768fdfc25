// topwords prints the most frequent words of its input, or of a built-in sample with -sample.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

const sample = "the cache keeps the layers and the layers keep the cache warm\n"

type entry struct {
	word  string
	count int
}

func top(r io.Reader, n int) ([]entry, error) {
	counts := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Split(bufio.ScanWords)
	for sc.Scan() {
		counts[strings.ToLower(sc.Text())]++
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	entries := make([]entry, 0, len(counts))
	for w, c := range counts {
		entries = append(entries, entry{w, c})
	}
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].count != entries[j].count {
			return entries[i].count > entries[j].count
		}
		return entries[i].word < entries[j].word
	})
	if len(entries) > n {
		entries = entries[:n]
	}
	return entries, nil
}

func main() {
	useSample := flag.Bool("sample", false, "count the built-in sample instead of stdin")
	n := flag.Int("n", 3, "how many words to print")
	flag.Parse()
	var in io.Reader = os.Stdin
	if *useSample {
		in = strings.NewReader(sample)
	}
	entries, err := top(in, *n)
	if err != nil {
		fmt.Fprintln(os.Stderr, "topwords:", err)
		os.Exit(1)
	}
	for _, e := range entries {
		fmt.Printf("%d %s\n", e.count, e.word)
	}
}
