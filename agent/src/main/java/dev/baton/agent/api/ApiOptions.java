package dev.baton.agent.api;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

/**
 * Where the API listens and who may use it: a TCP address, or a Unix socket.
 *
 * <p>A Unix socket is guarded by its file's permissions (0600: its owner, the agent's user, only;
 * give access through the directory it is in), so it needs no token, as loopback does not; a
 * token, if given, is checked all the same. Prometheus cannot scrape a Unix socket: a host that
 * wants the metrics scraped listens on TCP.
 *
 * @param host address to bind; loopback by default; null with a socket
 * @param port TCP port (0 picks a free one, for tests)
 * @param tokenFile bearer-token file, required for any non-loopback address; must be 0600 or stricter
 * @param maxBodyBytes request bodies over this are refused with 413
 * @param socket the Unix socket to listen on instead of TCP, or null
 */
public record ApiOptions(String host, int port, Path tokenFile, int maxBodyBytes, Path socket) {

  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_PORT = 9755;
  public static final int DEFAULT_MAX_BODY_BYTES = 64 * 1024;
  /** How a listen address names a Unix socket: {@code unix:/run/baton/api.sock}. */
  public static final String UNIX_PREFIX = "unix:";
  /** sun_path holds 108 bytes, the terminating NUL included. */
  static final int MAX_SOCKET_PATH_BYTES = 107;

  public ApiOptions {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be 0..65535, not " + port);
    }
    if (maxBodyBytes < 1024) {
      throw new IllegalArgumentException("max body must be at least 1024 bytes");
    }
    if (socket != null) {
      if (!socket.isAbsolute()) {
        throw new IllegalArgumentException("the socket path must be absolute, not '" + socket + "'");
      }
      if (socket.toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH_BYTES) {
        throw new IllegalArgumentException(
            "the socket path is longer than " + MAX_SOCKET_PATH_BYTES + " bytes: " + socket);
      }
    }
  }

  public ApiOptions(String host, int port, Path tokenFile, int maxBodyBytes) {
    this(host, port, tokenFile, maxBodyBytes, null);
  }

  public static ApiOptions loopback(int port) {
    return new ApiOptions(DEFAULT_HOST, port, null, DEFAULT_MAX_BODY_BYTES);
  }

  /** Parses HOST:PORT (IPv6 as [addr]:port), or unix:PATH. */
  public static ApiOptions parse(String listen, Path tokenFile) {
    if (listen.startsWith(UNIX_PREFIX)) {
      String path = listen.substring(UNIX_PREFIX.length());
      if (path.isEmpty()) {
        throw new IllegalArgumentException("'" + listen + "' names no socket: unix:/PATH");
      }
      return new ApiOptions(null, 0, tokenFile, DEFAULT_MAX_BODY_BYTES, Path.of(path));
    }
    int colon = listen.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("listen address must be HOST:PORT, not '" + listen + "'");
    }
    String host = listen.substring(0, colon).replaceAll("^\\[|\\]$", "");
    int port;
    try {
      port = Integer.parseInt(listen.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("port in '" + listen + "' is not a number");
    }
    return new ApiOptions(host, port, tokenFile, DEFAULT_MAX_BODY_BYTES);
  }

  SocketAddress address() throws UnknownHostException {
    return socket != null
        ? UnixDomainSocketAddress.of(socket)
        : new InetSocketAddress(InetAddress.getByName(host), port);
  }

  String describe() {
    return socket != null ? UNIX_PREFIX + socket : host + ":" + port;
  }

  /** The token, or null on loopback without one; refuses an exposed address without a token. */
  byte[] readToken() throws IOException {
    boolean loopback = socket != null || InetAddress.getByName(host).isLoopbackAddress();
    if (tokenFile == null) {
      if (!loopback) {
        throw new IOException(
            "refusing to listen on " + describe() + " without a token: give --token-file (mode 0600)");
      }
      return null;
    }
    Set<PosixFilePermission> perms = Files.getPosixFilePermissions(tokenFile);
    Set<PosixFilePermission> tooOpen =
        EnumSet.complementOf(EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));
    tooOpen.retainAll(perms);
    if (!tooOpen.isEmpty()) {
      throw new IOException(tokenFile + " must be readable by its owner only (chmod 600), not " + perms);
    }
    String token = Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
    if (token.length() < 16) {
      throw new IOException(tokenFile + " holds a token shorter than 16 characters");
    }
    return token.getBytes(StandardCharsets.UTF_8);
  }
}
