// Command codegen writes this provider's SDKs with Pulumi's own code
// generators, the ones `pulumi package gen-sdk` reaches through the language
// hosts, so sdk/ is what a released Pulumi would write from schema.json.
//
//	go run . -schema ../../schema.json -out ../../sdk          write sdk/python, sdk/nodejs, sdk/go
//	go run . -schema ../../schema.json -out ../../sdk -check   fail if they differ from a fresh run
//
// The CLI binds the schema, serialises the bound package and hands that text
// to each language host, which binds it again and calls its generator with
// its own name as the tool string (printed in every file's header). This
// program takes the same steps, so the files are byte for byte the same.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"

	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

type language struct {
	name     string
	generate func(pkg *schema.Package) (map[string][]byte, error)
	// What else lives in the SDK's folder and no generator writes: npm's
	// install, lock file and tsc output, what building or importing the Python
	// package leaves behind.
	owned func(rel string) bool
	// A step after generation, given the committed SDK folder.
	finish func(files map[string][]byte, committed string) error
}

var languages = []language{
	{
		name: "python",
		generate: func(pkg *schema.Package) (map[string][]byte, error) {
			// gen-sdk passes no overlays; the loader only serves pkg.Dependencies, and there are none.
			return python.GeneratePackage("pulumi-language-python", pkg, nil, nil)
		},
		owned: func(rel string) bool {
			return hasSegment(rel, "__pycache__", "build", "dist") || segmentHasSuffix(rel, ".egg-info")
		},
	},
	{
		name: "nodejs",
		generate: func(pkg *schema.Package) (map[string][]byte, error) {
			// gen-sdk without --local: a package.json for a published SDK.
			return nodejs.GeneratePackage("pulumi-language-nodejs", pkg, nil, nil, false, nil)
		},
		owned: func(rel string) bool {
			return rel == "package-lock.json" || hasSegment(rel, "node_modules") || strings.HasPrefix(rel, "bin/")
		},
	},
	{
		name: "go",
		generate: func(pkg *schema.Package) (map[string][]byte, error) {
			return gogen.GeneratePackage("pulumi-language-go", pkg, nil)
		},
		owned:  func(string) bool { return false },
		finish: tidyModule,
	},
}

func main() {
	schemaPath := flag.String("schema", "schema.json", "the package schema")
	out := flag.String("out", "sdk", "the folder holding one SDK folder per language")
	check := flag.Bool("check", false, "compare the SDKs in -out with a fresh generation instead of writing them")
	flag.Parse()

	if err := run(*schemaPath, *out, *check); err != nil {
		fmt.Fprintf(os.Stderr, "codegen: %v\n", err)
		os.Exit(1)
	}
}

func run(schemaPath, out string, check bool) error {
	marshalled, err := bindAndMarshal(schemaPath)
	if err != nil {
		return err
	}
	var stale []string
	for _, lang := range languages {
		// Each host binds the package afresh; the generators annotate what they are given.
		pkg, err := bind(marshalled)
		if err != nil {
			return fmt.Errorf("%s: %w", lang.name, err)
		}
		files, err := lang.generate(pkg)
		if err != nil {
			return fmt.Errorf("%s: %w", lang.name, err)
		}
		dir := filepath.Join(out, lang.name)
		if lang.finish != nil {
			if err := lang.finish(files, dir); err != nil {
				return fmt.Errorf("%s: %w", lang.name, err)
			}
		}
		committed, err := generatedFiles(dir, lang.owned)
		if err != nil {
			return err
		}
		if check {
			stale = append(stale, differences(lang.name, files, committed)...)
			continue
		}
		if err := write(dir, files, committed); err != nil {
			return err
		}
		fmt.Printf("wrote %s (%d files)\n", dir, len(files))
	}
	if len(stale) > 0 {
		for _, line := range stale {
			fmt.Println(line)
		}
		return errors.New("the committed SDKs differ from what schema.json generates: run `make sdks` and commit sdk/")
	}
	if check {
		fmt.Printf("%s matches %s\n", out, schemaPath)
	}
	return nil
}

// bindAndMarshal reads the schema as `pulumi package gen-sdk schema.json`
// does and returns the bound package serialised as the CLI sends it to a host.
func bindAndMarshal(schemaPath string) ([]byte, error) {
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		return nil, err
	}
	pkg, err := bind(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", schemaPath, err)
	}
	return pkg.MarshalJSON()
}

func bind(raw []byte) (*schema.Package, error) {
	var spec schema.PackageSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return nil, err
	}
	pkg, diags, err := schema.BindSpec(spec, schema.NewNullLoader(), schema.ValidationOptions{AllowDanglingReferences: true})
	if err != nil {
		return nil, err
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return pkg, nil
}

// generatedFiles lists the files under dir that a generator could have
// written (everything the language's tools do not own), by slash path.
func generatedFiles(dir string, owned func(string) bool) (map[string]string, error) {
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && path == dir {
			return fs.SkipAll
		}
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if d.IsDir() {
			if owned(rel + "/") {
				return fs.SkipDir
			}
			return nil
		}
		if !owned(rel) {
			files[rel] = path
		}
		return nil
	})
	return files, err
}

func differences(lang string, fresh map[string][]byte, committed map[string]string) []string {
	var report []string
	for _, rel := range sortedKeys(fresh) {
		path, ok := committed[rel]
		if !ok {
			report = append(report, fmt.Sprintf("missing: sdk/%s/%s", lang, rel))
			continue
		}
		old, err := os.ReadFile(path)
		if err != nil {
			report = append(report, fmt.Sprintf("unreadable: %s: %v", path, err))
			continue
		}
		if !bytes.Equal(old, fresh[rel]) {
			report = append(report, fmt.Sprintf("differs: sdk/%s/%s%s", lang, rel, firstDifference(old, fresh[rel])))
		}
	}
	for _, rel := range sortedKeys(committed) {
		if _, ok := fresh[rel]; !ok {
			report = append(report, fmt.Sprintf("not generated: sdk/%s/%s", lang, rel))
		}
	}
	return report
}

// firstDifference names the first line where the committed file and the
// fresh one part, which is usually enough to see why.
func firstDifference(old, fresh []byte) string {
	a, b := strings.Split(string(old), "\n"), strings.Split(string(fresh), "\n")
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y || i >= len(a) || i >= len(b) {
			return fmt.Sprintf(" (line %d)\n  committed: %q\n  generated: %q", i+1, x, y)
		}
	}
	return ""
}

// write makes dir hold exactly the generated files beside what the
// language's tools own there, leaving unchanged files untouched.
func write(dir string, files map[string][]byte, committed map[string]string) error {
	for rel, path := range committed {
		if _, ok := files[rel]; !ok {
			if err := os.Remove(path); err != nil {
				return err
			}
		}
	}
	for _, rel := range sortedKeys(files) {
		path := filepath.Join(dir, filepath.FromSlash(rel))
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, files[rel]) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, files[rel], 0o644); err != nil {
			return err
		}
	}
	return removeEmptyDirs(dir)
}

func removeEmptyDirs(dir string) error {
	var dirs []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && path != dir {
			dirs = append(dirs, path)
		}
		return err
	})
	if err != nil {
		return err
	}
	// Deepest first, so a folder emptied by its children goes too.
	sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
	for _, d := range dirs {
		if entries, err := os.ReadDir(d); err == nil && len(entries) == 0 {
			if err := os.Remove(d); err != nil {
				return err
			}
		}
	}
	return nil
}

func hasSegment(rel string, names ...string) bool {
	for _, segment := range strings.Split(strings.TrimSuffix(rel, "/"), "/") {
		for _, name := range names {
			if segment == name {
				return true
			}
		}
	}
	return false
}

func segmentHasSuffix(rel, suffix string) bool {
	for _, segment := range strings.Split(strings.TrimSuffix(rel, "/"), "/") {
		if strings.HasSuffix(segment, suffix) {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// tidyModule makes the Go SDK a module that builds. The generator's go.mod
// requires only github.com/pulumi/pulumi/sdk/v3, at the release it was
// written against (v3.269.0), without the indirect requirements and go.sum
// that `go build` needs; and that release depends on a pulumi-cloud-sdk
// version the module proxy does not serve. So the requirement is raised to
// the sdk/v3 this program is built with (the CLI's release, tools/pulumi) and
// `go mod tidy` writes the rest. The committed go.sum seeds the scratch copy,
// so modules already in Go's cache need no checksum lookup.
func tidyModule(files map[string][]byte, committed string) error {
	version, err := pulumiSDKVersion()
	if err != nil {
		return err
	}
	scratch, err := os.MkdirTemp("", "xpander-sdk-go-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	for rel, data := range files {
		path := filepath.Join(scratch, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
	}
	if sums, err := os.ReadFile(filepath.Join(committed, "go.sum")); err == nil {
		if err := os.WriteFile(filepath.Join(scratch, "go.sum"), sums, 0o644); err != nil {
			return err
		}
	}
	for _, args := range [][]string{
		{"mod", "edit", "-require=" + pulumiSDK + "@" + version},
		{"mod", "tidy"},
	} {
		cmd := exec.Command("go", args...)
		cmd.Dir = scratch
		// The SDK is its own module: no workspace, no flags of the caller's build.
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
		if output, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, output)
		}
	}
	for _, name := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(scratch, name))
		if err != nil {
			return err
		}
		files[name] = data
	}
	return nil
}

const pulumiSDK = "github.com/pulumi/pulumi/sdk/v3"

func pulumiSDKVersion() (string, error) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "", errors.New("no build information: build this program as a module")
	}
	for _, dep := range info.Deps {
		if dep.Path == pulumiSDK {
			return dep.Version, nil
		}
	}
	return "", fmt.Errorf("%s is not among this program's dependencies", pulumiSDK)
}
