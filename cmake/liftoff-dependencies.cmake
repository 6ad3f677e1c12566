# What liftoff's headers need (the installed config says the same with find_dependency).
find_package(Boost 1.81 REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(Threads REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(range-v3 REQUIRED)
find_package(LibArchive REQUIRED)
find_package(SQLite3 REQUIRED)
