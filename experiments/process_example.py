from multiprocessing import Process


def task(name):
    print(f"Task {name} is running")


if __name__ == "__main__":
    processes = [Process(target=task, args=(i,)) for i in range(5)]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
