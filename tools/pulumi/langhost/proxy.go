package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// frame is a message passed between the CLI and an old host without being decoded,
// so fields either side does not know survive the trip.
type frame struct{ data []byte }

// frameCodec moves frames as they are and (de)serialises everything else, such as the
// health and reflection services the server registers, as protobuf.
type frameCodec struct{}

func (frameCodec) Name() string { return "proto" }

func (frameCodec) Marshal(v any) ([]byte, error) {
	if f, ok := v.(*frame); ok {
		return f.data, nil
	}
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("cannot marshal %T", v)
	}
	return proto.Marshal(m)
}

func (frameCodec) Unmarshal(data []byte, v any) error {
	if f, ok := v.(*frame); ok {
		f.data = slices.Clone(data)
		return nil
	}
	m, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("cannot unmarshal into %T", v)
	}
	return proto.Unmarshal(data, m)
}

type proxy struct {
	local map[string]func(grpc.ServerStream) error
	hosts *legacyHosts
}

// handle serves every call: the code generation methods here, the rest by an old host.
func (p *proxy) handle(_ any, stream grpc.ServerStream) error {
	method, ok := grpc.MethodFromServerStream(stream)
	if !ok {
		return status.Error(codes.Internal, "no method name on the stream")
	}
	if local, ok := p.local[method]; ok {
		return local(stream)
	}
	desc, err := methodDescriptor(method)
	if err != nil {
		return status.Error(codes.Unimplemented, err.Error())
	}
	if desc.IsStreamingClient() {
		return status.Errorf(codes.Unimplemented, "%s: client streams are not forwarded", method)
	}

	request := &frame{}
	if err := stream.RecvMsg(request); err != nil {
		return err
	}
	info, err := programInfo(desc, request.data)
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "%s: %v", method, err)
	}
	host, err := p.hosts.get(info)
	if err != nil {
		return status.Errorf(codes.Unavailable, "%s: %v", method, err)
	}

	ctx := stream.Context()
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		ctx = metadata.NewOutgoingContext(ctx, md.Copy())
	}
	out, err := host.conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: desc.IsStreamingServer()}, method,
		grpc.ForceCodec(frameCodec{}))
	if err != nil {
		return err
	}
	if err := out.SendMsg(request); err != nil {
		return err
	}
	if err := out.CloseSend(); err != nil {
		return err
	}
	if header, err := out.Header(); err == nil && len(header) > 0 {
		if err := stream.SendHeader(header); err != nil {
			return err
		}
	}
	for {
		reply := &frame{}
		err := out.RecvMsg(reply)
		if errors.Is(err, io.EOF) {
			stream.SetTrailer(out.Trailer())
			return nil
		}
		if err != nil {
			stream.SetTrailer(out.Trailer())
			return err
		}
		if err := stream.SendMsg(reply); err != nil {
			return err
		}
	}
}

func methodDescriptor(method string) (protoreflect.MethodDescriptor, error) {
	name := protoreflect.FullName(strings.ReplaceAll(strings.TrimPrefix(method, "/"), "/", "."))
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(name)
	if err != nil {
		return nil, fmt.Errorf("unknown method %s", method)
	}
	md, ok := d.(protoreflect.MethodDescriptor)
	if !ok {
		return nil, fmt.Errorf("%s is not a method", method)
	}
	return md, nil
}

// programInfo is the ProgramInfo a request carries (the project's root, program
// folder and runtime options), or nil for a request about no program in particular.
func programInfo(desc protoreflect.MethodDescriptor, data []byte) (*pulumirpc.ProgramInfo, error) {
	infoName := (&pulumirpc.ProgramInfo{}).ProtoReflect().Descriptor().FullName()
	fields := desc.Input().Fields()
	for i := range fields.Len() {
		field := fields.Get(i)
		if field.Message() == nil || field.Message().FullName() != infoName || field.IsList() {
			continue
		}
		t, err := protoregistry.GlobalTypes.FindMessageByName(desc.Input().FullName())
		if err != nil {
			return nil, err
		}
		m := t.New()
		if err := proto.Unmarshal(data, m.Interface()); err != nil {
			return nil, err
		}
		if !m.Has(field) {
			return nil, nil
		}
		return m.Get(field).Message().Interface().(*pulumirpc.ProgramInfo), nil
	}
	return nil, nil
}

// legacyHosts are the old hosts started so far, one per program and runtime options.
type legacyHosts struct {
	lang *language
	path string
	args []string

	mu      sync.Mutex
	byKey   map[string]*legacyHost
	started []*legacyHost
	stopped bool
}

type legacyHost struct {
	cmd  *exec.Cmd
	conn *grpc.ClientConn
}

func newLegacyHosts(lang *language, path string, args []string) *legacyHosts {
	return &legacyHosts{lang: lang, path: path, args: args, byKey: map[string]*legacyHost{}}
}

// get returns the old host for a program, starting it on first use. A call about no
// program goes to any host already running.
func (h *legacyHosts) get(info *pulumirpc.ProgramInfo) (*legacyHost, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return nil, errors.New("the language host is shutting down")
	}
	if info == nil && len(h.started) > 0 {
		return h.started[0], nil
	}
	dir, flags := h.lang.legacyInvocation(info)
	key := strings.Join(append([]string{dir}, flags...), "\x00")
	if host, ok := h.byKey[key]; ok {
		return host, nil
	}
	host, err := startLegacyHost(h.path, dir, append(flags, h.args...))
	if err != nil {
		return nil, err
	}
	h.byKey[key] = host
	h.started = append(h.started, host)
	return host, nil
}

func (h *legacyHosts) stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stopped = true
	for _, host := range h.started {
		_ = host.conn.Close()
		_ = host.cmd.Process.Kill()
		_ = host.cmd.Wait()
	}
	h.started = nil
}

// startLegacyHost runs an old host as the CLI would: it prints its port first, then
// everything the programs it runs print, which goes on to this host's stdout, where
// the CLI reads it.
func startLegacyHost(path, dir string, args []string) (*legacyHost, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	cmd.Stdout = w
	cmd.Stderr = os.Stderr
	err = cmd.Start()
	_ = w.Close()
	if err != nil {
		_ = r.Close()
		return nil, fmt.Errorf("cannot start %s: %w", path, err)
	}
	out := bufio.NewReader(r)
	line, err := out.ReadString('\n')
	port, perr := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || perr != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = r.Close()
		return nil, fmt.Errorf("%s printed no port (read %q)", path, line)
	}
	go func() {
		_, _ = io.Copy(os.Stdout, out)
		_ = r.Close()
	}()
	conn, err := grpc.NewClient(net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		grpc.WithTransportCredentials(insecure.NewCredentials()), rpcutil.GrpcChannelOptions())
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, err
	}
	return &legacyHost{cmd: cmd, conn: conn}, nil
}
