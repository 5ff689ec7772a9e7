import threading


def task(name):
    print(f"Task {name} is running")


threads = [threading.Thread(target=task, args=(i,)) for i in range(5)]
for t in threads:
    t.start()
for t in threads:
    t.join()
