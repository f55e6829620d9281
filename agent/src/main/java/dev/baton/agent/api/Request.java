package dev.baton.agent.api;

import java.util.Map;

/**
 * One HTTP request as a handler sees it.
 *
 * @param method GET, PUT, ...
 * @param path the path without the query string
 * @param params values of the route's {name} segments
 * @param query query parameters (the last value of each)
 * @param body the request body, empty when there is none
 */
public record Request(
    String method, String path, Map<String, String> params, Map<String, String> query, byte[] body) {

  /** The body parsed as JSON into type, strictly: unknown fields and wrong types are 400s. */
  public <T> T json(Class<T> type) {
    if (body.length == 0) {
      throw ApiException.badRequest("a JSON body is required");
    }
    return Json.read(body, type);
  }

  public String param(String name) {
    return params.get(name);
  }
}
