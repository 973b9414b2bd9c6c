// Command healthcheck asks a gRPC server for its health, for an image's
// HEALTHCHECK. It shares most of its dependencies with the server, which is
// what the benchmark's several-binaries table needs: two main packages over
// one large module graph.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

var version = "dev"

func main() {
	addr := flag.String("addr", "localhost:50051", "server address")
	timeout := flag.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	printVersion := flag.Bool("version", false, "print the version")
	flag.Parse()
	if *printVersion {
		fmt.Println("healthcheck", version)
		return
	}
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		fmt.Fprintln(os.Stderr, resp.GetStatus())
		os.Exit(1)
	}
}
