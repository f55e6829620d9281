package dev.baton.policy;

import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * An int-keyed map for pids, so the per-sample lookup neither boxes nor allocates. Open addressing
 * with linear probing and backward-shift deletion; grows at half full. Not thread-safe.
 */
final class PidMap<T> implements Iterable<T> {

  private int[] keys;
  private Object[] values;
  private int size;

  PidMap(int expected) {
    int slots = Integer.highestOneBit(Math.max(4, expected) * 2 - 1) * 2;
    keys = new int[slots];
    values = new Object[slots];
  }

  int size() {
    return size;
  }

  @SuppressWarnings("unchecked")
  T get(int key) {
    return (T) values[find(key)];
  }

  /** Stores {@code value} (non-null) under {@code key} (positive), returning the previous value. */
  @SuppressWarnings("unchecked")
  T put(int key, T value) {
    int i = find(key);
    T old = (T) values[i];
    keys[i] = key;
    values[i] = value;
    if (old == null && ++size * 2 > keys.length) {
      grow();
    }
    return old;
  }

  @SuppressWarnings("unchecked")
  T remove(int key) {
    int hole = find(key);
    T old = (T) values[hole];
    if (old == null) {
      return null;
    }
    int mask = keys.length - 1;
    int i = hole;
    while (true) {
      i = (i + 1) & mask;
      if (values[i] == null) {
        break;
      }
      int home = mix(keys[i]) & mask;
      // Move i into the hole unless its home lies cyclically in (hole, i].
      boolean stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
      if (!stays) {
        keys[hole] = keys[i];
        values[hole] = values[i];
        hole = i;
      }
    }
    keys[hole] = 0;
    values[hole] = null;
    size--;
    return old;
  }

  @Override
  public Iterator<T> iterator() {
    return new Iterator<>() {
      private int next = advance(0);

      private int advance(int from) {
        while (from < values.length && values[from] == null) {
          from++;
        }
        return from;
      }

      @Override
      public boolean hasNext() {
        return next < values.length;
      }

      @Override
      @SuppressWarnings("unchecked")
      public T next() {
        if (next >= values.length) {
          throw new NoSuchElementException();
        }
        T v = (T) values[next];
        next = advance(next + 1);
        return v;
      }
    };
  }

  private int find(int key) {
    int mask = keys.length - 1;
    int i = mix(key) & mask;
    while (values[i] != null && keys[i] != key) {
      i = (i + 1) & mask;
    }
    return i;
  }

  private void grow() {
    int[] oldKeys = keys;
    Object[] oldValues = values;
    keys = new int[oldKeys.length * 2];
    values = new Object[oldValues.length * 2];
    for (int i = 0; i < oldKeys.length; i++) {
      if (oldValues[i] != null) {
        int j = find(oldKeys[i]);
        keys[j] = oldKeys[i];
        values[j] = oldValues[i];
      }
    }
  }

  private static int mix(int key) {
    int h = key * 0x9E3779B9;
    return h ^ (h >>> 16);
  }
}
