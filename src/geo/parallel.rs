//! Work split over the cores: one chunk of the items per core, each on a
//! named scoped thread, the chunks' results in the items' order.

/// Runs `work` on `items` in one chunk per core (threads named
/// `{name}-{i}`), returning each chunk's result in order. A panic in a
/// worker is resumed on the caller; a worker that cannot be started runs
/// its chunk on the caller's thread (same result, only slower).
pub fn map_chunks<T, R, F>(name: &str, items: &[T], work: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&[T]) -> R + Sync,
{
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let chunk = items.len().div_ceil(workers).max(1);
    if items.len() <= chunk {
        return vec![work(items)];
    }
    let work = &work;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .enumerate()
            .map(|(i, part)| {
                std::thread::Builder::new()
                    .name(format!("{name}-{i}"))
                    .spawn_scoped(scope, move || work(part))
                    .map_err(|_| part)
            })
            .collect();
        handles
            .into_iter()
            .map(|h| match h {
                Ok(h) => h
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                Err(part) => work(part),
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chunks_results_come_back_in_order_and_cover_every_item() {
        let items: Vec<u32> = (0..1001).collect();
        let sums = map_chunks("test", &items, |part| part.to_vec());
        let flat: Vec<u32> = sums.into_iter().flatten().collect();
        assert_eq!(flat, items);
        assert_eq!(map_chunks("test", &[] as &[u32], |p| p.len()), vec![0]);
        let names = map_chunks("named", &items, |_| {
            std::thread::current().name().map(str::to_owned)
        });
        if names.len() > 1 {
            assert!(
                names
                    .iter()
                    .all(|n| n.as_deref().is_some_and(|n| n.starts_with("named-")))
            );
        }
    }
}
