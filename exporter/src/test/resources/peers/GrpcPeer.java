import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;

/**
 * A gRPC server and client on grpc-java (Netty), for the agent's tests; messages are raw bytes, so
 * no generated code is needed.
 *   java GrpcPeer.java server        prints "port N"; demo.Greeter/Say answers "hello " + request,
 *                                     Count streams three messages, Fail ends NOT_FOUND "no such
 *                                     greeting", Slow answers after 3 s
 *   java GrpcPeer.java client PORT   Say, Count, Fail, then Slow with a 300 ms deadline; prints one
 *                                     line per call
 */
public class GrpcPeer {
  static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };

  static MethodDescriptor<byte[], byte[]> method(String name, MethodDescriptor.MethodType type) {
    return MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(type)
        .setFullMethodName(MethodDescriptor.generateFullMethodName("demo.Greeter", name))
        .setRequestMarshaller(BYTES)
        .setResponseMarshaller(BYTES)
        .build();
  }

  static final MethodDescriptor<byte[], byte[]> SAY = method("Say", MethodDescriptor.MethodType.UNARY);
  static final MethodDescriptor<byte[], byte[]> COUNT = method("Count", MethodDescriptor.MethodType.SERVER_STREAMING);
  static final MethodDescriptor<byte[], byte[]> FAIL = method("Fail", MethodDescriptor.MethodType.UNARY);
  static final MethodDescriptor<byte[], byte[]> SLOW = method("Slow", MethodDescriptor.MethodType.UNARY);

  static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  public static void main(String[] args) throws Exception {
    if (args[0].equals("server")) {
      ServerServiceDefinition service = ServerServiceDefinition.builder("demo.Greeter")
          .addMethod(SAY, ServerCalls.asyncUnaryCall((request, response) -> {
            response.onNext(bytes("hello " + new String(request, StandardCharsets.UTF_8)));
            response.onCompleted();
          }))
          .addMethod(COUNT, ServerCalls.asyncServerStreamingCall((request, response) -> {
            for (int i = 1; i <= 3; i++) {
              response.onNext(bytes("count " + i));
            }
            response.onCompleted();
          }))
          .addMethod(FAIL, ServerCalls.asyncUnaryCall((request, response) ->
              response.onError(Status.NOT_FOUND.withDescription("no such greeting").asRuntimeException())))
          .addMethod(SLOW, ServerCalls.asyncUnaryCall((request, response) -> {
            try {
              Thread.sleep(3000);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            response.onNext(bytes("late"));
            response.onCompleted();
          }))
          .build();
      Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(service).build().start();
      System.out.println("port " + server.getPort());
      System.out.flush();
      server.awaitTermination();
      return;
    }
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", Integer.parseInt(args[1])).usePlaintext().build();
    System.out.println(new String(ClientCalls.blockingUnaryCall(channel, SAY, CallOptions.DEFAULT, bytes("world")), StandardCharsets.UTF_8));
    Iterator<byte[]> counts = ClientCalls.blockingServerStreamingCall(channel, COUNT, CallOptions.DEFAULT, bytes("3"));
    int n = 0;
    while (counts.hasNext()) {
      counts.next();
      n++;
    }
    System.out.println("counted " + n);
    try {
      ClientCalls.blockingUnaryCall(channel, FAIL, CallOptions.DEFAULT, bytes("x"));
    } catch (StatusRuntimeException e) {
      System.out.println("fail " + e.getStatus().getCode());
    }
    try {
      ClientCalls.blockingUnaryCall(channel, SLOW, CallOptions.DEFAULT.withDeadlineAfter(300, TimeUnit.MILLISECONDS), bytes("x"));
    } catch (StatusRuntimeException e) {
      System.out.println("slow " + e.getStatus().getCode());
    }
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
