package dev.baton.agent.api;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.NetUtil;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The agent's HTTP/1.1 endpoint: control API and metrics on one port, loopback by default.
 *
 * <p>Netty does the I/O on one event-loop thread; handlers run on a single "baton-api" thread so
 * that a slow handler (a metrics scrape, a map write) never stalls the socket loop, and so that
 * handlers never run concurrently with each other. Anything they share with the scheduler's
 * event loop must still be thread-safe.
 *
 * <p>Security: bound to loopback unless configured otherwise; any other address requires a bearer
 * token (see {@link ApiOptions}), compared in constant time on every request. A Unix socket is
 * made 0600 as soon as it is bound, and removed when the server closes; a socket file left by an
 * agent that was killed is replaced, one that another process still answers on is not, and a path
 * that is not a socket is never touched.
 */
public final class ApiServer implements AutoCloseable {

  /** Handles one routed request; throws {@link ApiException} to refuse it. */
  @FunctionalInterface
  public interface Handler {
    Response handle(Request request) throws Exception;
  }

  private record Route(String method, String[] segments, Handler handler) {}

  private final ApiOptions options;
  private final List<Route> routes = new ArrayList<>();
  private final byte[] token;
  private EventLoopGroup group;
  private ExecutorService handlers;
  private Channel channel;
  /** Answers on their way out, which close() lets finish before the event loop closes sockets. */
  private final Set<ChannelFuture> inflight = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private boolean closed;

  public ApiServer(ApiOptions options) throws IOException {
    this.options = options;
    this.token = options.readToken();
  }

  /** Registers a handler for method and a path pattern such as {@code /v1/jobs/{id}}. */
  public ApiServer route(String method, String pattern, Handler handler) {
    if (channel != null) {
      throw new IllegalStateException("routes are fixed once the server has started");
    }
    routes.add(new Route(method, pattern.substring(1).split("/"), handler));
    return this;
  }

  /** Binds and starts serving; fails (nothing left running) if the address cannot be bound. */
  public void start() throws IOException {
    if (options.socket() != null) {
      clearStaleSocket(options.socket());
    }
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    handlers = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().name("baton-api").daemon().unstarted(r));
    try {
      channel =
          new ServerBootstrap()
              .group(group)
              .channel(options.socket() != null ? NioServerDomainSocketChannel.class : NioServerSocketChannel.class)
              .childHandler(
                  new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                      ch.pipeline()
                          .addLast(new HttpServerCodec())
                          .addLast(new HttpServerExpectContinueHandler())
                          .addLast(
                              new HttpObjectAggregator(options.maxBodyBytes()) {
                                // Netty's own answer has no body; ours says what the limit is.
                                @Override
                                protected void handleOversizedMessage(
                                    ChannelHandlerContext ctx, io.netty.handler.codec.http.HttpMessage m) {
                                  send(ctx, Response.json(413, tooLarge()), false);
                                }
                              })
                          .addLast(new Dispatcher());
                    }
                  })
              .bind(options.address())
              .sync()
              .channel();
      if (options.socket() != null) {
        Files.setPosixFilePermissions(options.socket(), PosixFilePermissions.fromString("rw-------"));
      }
    } catch (Exception e) {
      close();
      throw new IOException("cannot listen on " + options.describe() + ": " + e.getMessage(), e);
    }
  }

  private static final int S_IFMT = 0170000;
  private static final int S_IFSOCK = 0140000;

  /**
   * Removes a socket file no process answers on (an agent killed before it could remove it). A
   * path that is not a socket, or a socket someone answers on, stays, and start() fails on it.
   */
  private static void clearStaleSocket(Path path) throws IOException {
    if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    if ((mode & S_IFMT) != S_IFSOCK) {
      throw new IOException("cannot listen on " + ApiOptions.UNIX_PREFIX + path + ": it exists and is not a socket");
    }
    try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
      throw new IOException(
          "cannot listen on " + ApiOptions.UNIX_PREFIX + path + ": another process answers on it (another agent?)");
    } catch (ConnectException stale) {
      Files.deleteIfExists(path);
    } catch (java.net.SocketException e) {
      throw new IOException("cannot listen on " + ApiOptions.UNIX_PREFIX + path + ": " + e.getMessage(), e);
    }
  }

  /** The bound TCP address (the real port when configured with port 0). */
  public InetSocketAddress address() {
    if (!(channel.localAddress() instanceof InetSocketAddress a)) {
      throw new IllegalStateException("the API listens on " + where() + ", not TCP");
    }
    return a;
  }

  /** Where the API listens, as --listen and --api take it: HOST:PORT or unix:PATH. */
  public String where() {
    return channel.localAddress() instanceof InetSocketAddress i
        ? NetUtil.toSocketAddressString(i)
        : ApiOptions.UNIX_PREFIX + options.socket();
  }

  /**
   * Stops accepting, lets running handlers finish and their answers go out (a request that stops
   * the agent, such as a handover, still gets its reply), then closes every connection.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (channel != null) {
      channel.close().syncUninterruptibly();
    }
    if (handlers != null) {
      handlers.shutdown();
      try {
        handlers.awaitTermination(2, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      handlers.shutdownNow();
    }
    // A shutting-down event loop closes its sockets at once, dropping queued writes: wait first.
    for (ChannelFuture f : List.copyOf(inflight)) {
      f.awaitUninterruptibly(1000);
    }
    if (group != null) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  private final class Dispatcher extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      boolean keepAlive = HttpUtil.isKeepAlive(req);
      if (!req.decoderResult().isSuccess()) {
        Throwable cause = req.decoderResult().cause();
        int status = cause instanceof TooLongFrameException ? 431 : 400;
        send(ctx, Response.json(status, error("malformed HTTP request")), false);
        return;
      }
      String auth = req.headers().get(HttpHeaderNames.AUTHORIZATION);
      String method = req.method().name();
      QueryStringDecoder uri = new QueryStringDecoder(req.uri());
      byte[] body = ByteBufUtil.getBytes(req.content());
      handlers.execute(
          () -> send(ctx, dispatch(method, uri, auth, body), keepAlive));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (cause instanceof TooLongFrameException) {
        send(ctx, Response.json(413, tooLarge()), false);
      } else {
        ctx.close();
      }
    }
  }

  /**
   * Routes one request as if it had arrived over HTTP (authorization included), without the
   * network: for tests and fuzzing of the handlers. Never throws.
   */
  public Response handle(String method, String uri, String authorization, byte[] body) {
    return dispatch(method, new QueryStringDecoder(uri), authorization, body);
  }

  /** Routes one request; every failure becomes a response, never an exception. */
  Response dispatch(String method, QueryStringDecoder uri, String authorization, byte[] body) {
    if (token != null && !authorized(authorization)) {
      return Response.json(401, error("missing or wrong bearer token"));
    }
    try {
      return route(method, uri, body);
    } catch (IllegalArgumentException e) {
      // Decoding the path or query failed (a bad %-escape): nothing was routed.
      return Response.json(400, error("malformed request URI"));
    }
  }

  private Response route(String method, QueryStringDecoder uri, byte[] body) {
    // Split before decoding, so an id holding an escaped slash stays one segment.
    String[] segments = uri.rawPath().substring(1).split("/", -1);
    Set<String> allowed = new LinkedHashSet<>();
    for (Route route : routes) {
      Map<String, String> params = match(route.segments(), segments);
      if (params == null) {
        continue;
      }
      if (!route.method().equals(method)) {
        allowed.add(route.method());
        continue;
      }
      Map<String, String> query = new HashMap<>();
      uri.parameters().forEach((k, v) -> query.put(k, v.getLast()));
      try {
        return route.handler().handle(new Request(method, uri.path(), params, query, body));
      } catch (ApiException e) {
        return Response.json(e.status(), error(e.getMessage()));
      } catch (Exception e) {
        return Response.json(500, error("internal error: " + e));
      }
    }
    if (!allowed.isEmpty()) {
      return Response.json(405, error(method + " is not allowed here; use " + String.join(", ", allowed)));
    }
    return Response.json(404, error("no such endpoint: " + uri.path()));
  }

  private boolean authorized(String header) {
    if (header == null || !header.startsWith("Bearer ")) {
      return false;
    }
    byte[] given = header.substring("Bearer ".length()).trim().getBytes(StandardCharsets.UTF_8);
    return MessageDigest.isEqual(given, token);
  }

  private static Map<String, String> match(String[] pattern, String[] path) {
    if (pattern.length != path.length) {
      return null;
    }
    Map<String, String> params = new HashMap<>();
    for (int i = 0; i < pattern.length; i++) {
      String p = pattern[i];
      if (p.startsWith("{") && p.endsWith("}")) {
        if (path[i].isEmpty()) {
          return null;
        }
        params.put(p.substring(1, p.length() - 1), QueryStringDecoder.decodeComponent(path[i]));
      } else if (!p.equals(path[i])) {
        return null;
      }
    }
    return params;
  }

  private Map<String, String> tooLarge() {
    return error("request body over " + options.maxBodyBytes() + " bytes");
  }

  static Map<String, String> error(String message) {
    return Map.of("error", message);
  }

  private void send(ChannelHandlerContext ctx, Response r, boolean keepAlive) {
    FullHttpResponse res =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(r.status()), Unpooled.wrappedBuffer(r.body()));
    res.headers().set(HttpHeaderNames.CONTENT_TYPE, r.contentType());
    res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.body().length);
    if (keepAlive) {
      res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    }
    ChannelFuture written = ctx.writeAndFlush(res);
    inflight.add(written);
    written.addListener(f -> inflight.remove(written));
    if (!keepAlive) {
      written.addListener(ChannelFutureListener.CLOSE);
    }
  }
}
